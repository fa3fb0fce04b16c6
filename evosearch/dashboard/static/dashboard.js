/* evosearch dashboard: the pages, filled from server-sent events (see evosearch/dashboard/app.py).
 * Every run update carries only what is new; the page keeps the rest. */
(function () {
  "use strict";
  const body = document.body;
  const $ = id => document.getElementById(id);
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22"];

  function esc(v) {
    return String(v == null ? "" : v).replace(/[&<>"']/g,
      c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function num(v, digits) {
    if (v == null || !isFinite(v)) { return "–"; }
    if (Number.isInteger(v) && Math.abs(v) >= 1000) { return v.toLocaleString("en"); }
    return (+v).toFixed(digits == null ? 4 : digits);
  }
  function size(v) {
    if (v == null) { return "–"; }
    return Number.isInteger(v) ? v.toLocaleString("en") : (+v).toPrecision(4);
  }
  function duration(s) {
    if (s == null || !isFinite(s)) { return "–"; }
    s = Math.round(s);
    if (s < 60) { return s + " s"; }
    if (s < 3600) { return Math.floor(s / 60) + " min " + (s % 60) + " s"; }
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function started(text) { return text ? text.replace("T", " ").replace(/([+-]\d{4})$/, " $1") : "–"; }
  function runUrl(name) { return "/run/" + name.split("/").map(encodeURIComponent).join("/"); }

  function live(url, name, handle) {
    const badge = $("live");
    const source = new EventSource(url);
    let updates = 0;
    source.addEventListener(name, e => {
      const t0 = performance.now();
      updates += 1;
      badge.textContent = "live"; badge.className = "live on";
      handle(JSON.parse(e.data));
      // For tests and benchmarks/dashboard_load.py: how many updates, what the last cost.
      body.dataset.handleMs = (performance.now() - t0).toFixed(2);
      body.dataset.updateBytes = String(e.data.length);
      body.dataset.updates = String(updates);
    });
    source.onerror = () => { badge.textContent = "reconnecting…"; badge.className = "live off"; };
    return source;
  }

  // Click a header to sort by it; again to reverse. Rows carry their values in data-sort-*.
  function sortable(table, onSort) {
    table.querySelector("thead").addEventListener("click", e => {
      const th = e.target.closest("th[data-key]");
      if (!th) { return; }
      const key = th.dataset.key;
      const state = table._sort || {};
      table._sort = { key, dir: state.key === key ? -state.dir : 1 };
      table.querySelectorAll("th").forEach(h => h.classList.remove("asc", "desc"));
      th.classList.add(table._sort.dir > 0 ? "asc" : "desc");
      onSort();
    });
  }
  function sortRows(table, rows, value) {
    const s = table._sort;
    if (!s) { return rows; }
    return rows.slice().sort((a, b) => {
      const x = value(a, s.key), y = value(b, s.key);
      if (x == null && y == null) { return 0; }
      if (x == null) { return 1; }
      if (y == null) { return -1; }
      return (x < y ? -1 : x > y ? 1 : 0) * s.dir;
    });
  }

  // ---------------------------------------------------------------- the list of runs
  function listPage() {
    const table = $("runs"), tbody = table.querySelector("tbody");
    const chosen = new Set();
    let runs = [];
    const button = $("compare");
    button.addEventListener("click", () => {
      const q = [...chosen].map(n => "run=" + encodeURIComponent(n)).join("&");
      location.href = "/compare?" + q;
    });
    function render() {
      $("empty").hidden = runs.length > 0;
      const rows = sortRows(table, runs, (r, k) => Array.isArray(r[k]) ? r[k].join(",") : r[k]);
      tbody.innerHTML = rows.map(r => {
        const share = r.planned ? Math.min(100, 100 * ((r.generation == null ? -1 : r.generation) + 1) / (r.planned + 1)) : 0;
        const progress = (r.generation == null ? "–" : `generation ${r.generation} of ${r.planned}`) +
          `<div class="mini"><div style="width:${share}%"></div></div>` +
          (r.state === "running" && r.eta_seconds != null ? ` <span class="dim">${duration(r.eta_seconds)} left</span>` : "");
        const problem = r.problems.length ? ` title="${esc(r.problems.join("\n"))}"` : "";
        return `<tr data-run="${esc(r.name)}" class="state-${esc(r.state)}">
          <td><input type="checkbox" ${chosen.has(r.name) ? "checked" : ""}></td>
          <td><a href="${esc(runUrl(r.name))}">${esc(r.name)}</a></td>
          <td><span class="state ${esc(r.state)}"${problem}>${esc(r.state)}</span></td>
          <td>${esc(r.data || "–")}${r.rows ? ` <span class="dim">${r.rows}×${r.features}</span>` : ""}</td>
          <td>${esc(r.genome || "–")}</td><td>${esc(r.objectives.join(", "))}</td>
          <td class="num">${num(r.best_score)}</td><td class="num">${num(r.hypervolume)}</td>
          <td class="progress-cell">${progress}</td><td>${esc(started(r.started))}</td>
          <td class="num">${duration(r.seconds)}</td><td>${esc(r.host || "–")}</td></tr>`;
      }).join("");
      tbody.querySelectorAll("input[type=checkbox]").forEach(box => box.addEventListener("change", () => {
        const name = box.closest("tr").dataset.run;
        if (box.checked) { chosen.add(name); } else { chosen.delete(name); }
        button.disabled = chosen.size < 2;
      }));
    }
    sortable(table, render);
    table._sort = { key: "started", dir: -1 };  // the newest run first
    table.querySelector("th[data-key='started']").classList.add("desc");
    live("/api/events/runs", "runs", data => { runs = data; render(); });
  }

  // ---------------------------------------------------------------- one run
  function runPage() {
    const name = body.dataset.run;
    const dir = document.querySelector("header .dir").textContent.replace(/\/+$/, "");
    const st = { cand: { generation: [], score: [], size: [] }, history: [], front: [], summary: null,
      settings: null, info: null };
    const pareto = new EvoPlot($("pareto"), {
      xlog: true, tooltip: memberTip, click: m => openMember(m.hash), empty: "no evaluation yet",
    });
    const best = new EvoPlot($("best"), { xlabel: "generation", xint: true });
    const hv = new EvoPlot($("hypervolume"), { xlabel: "generation", xint: true });
    const archive = $("archive");
    sortable(archive, renderArchive);
    $("resume").textContent = "evosearch resume " + (dir ? dir + "/" : "") + name;

    function memberTip(m) {
      const objectives = Object.entries(m.objectives || {})
        .map(([k, v]) => `${esc(k)} ${k === "score" ? num(v) : size(v)}`).join(", ");
      const folds = (m.folds || []).map(v => num(v, 3)).join(", ");
      return `<b>${esc(m.describe)}</b><br>${objectives}<br>folds: ${folds}` +
        `<br><span class="dim">generation ${esc(m.generation)} · ${esc(m.hash)}</span>`;
    }

    function update(d) {
      if (d.reset) { st.cand = { generation: [], score: [], size: [] }; st.history = []; }
      for (const k of ["generation", "score", "size"]) {
        const a = st.cand[k], b = d.candidates[k];
        for (let i = 0; i < b.length; i++) { a.push(b[i]); }
      }
      st.history.push(...d.history);
      if (d.front) { st.front = d.front; }
      if (d.settings !== undefined) { st.settings = d.settings; st.info = d.info; }
      st.summary = d.summary;
      st.failures = d.failures;
      renderHead(); renderPlots();
      if (d.front) { renderArchive(); }
      if (d.settings !== undefined) { renderSettings(); }
      renderFailures();
    }

    function renderHead() {
      const s = st.summary;
      const badge = $("state");
      badge.textContent = s.state; badge.className = "state " + s.state;
      const problems = $("problems");
      problems.hidden = s.problems.length === 0;
      problems.innerHTML = s.problems.length
        ? "<b>This run folder is damaged or incomplete:</b><ul>" +
          s.problems.map(p => `<li>${esc(p)}</li>`).join("") + "</ul>" : "";
      const facts = [
        ["data", s.data ? `${s.data} (${s.task}, ${s.rows} rows × ${s.features} features)` : "–"],
        ["genome", s.genome], ["strategy", s.strategy], ["objectives", s.objectives.join(", ")],
        ["best " + s.score_name, num(s.best_score)], ["hypervolume", num(s.hypervolume)],
        ["evaluations", `${s.evaluations} (${s.failures} failed${s.screened ? `, ${s.screened} screening` : ""})`],
        ["started", started(s.started)], ["duration", duration(s.seconds)],
        ["host", s.host ? s.host + (s.pid ? ` (pid ${s.pid}, ${s.command})` : "") : "–"],
      ];
      $("facts").innerHTML = facts.map(([k, v]) =>
        `<div><span class="k">${esc(k)}</span> <span class="v" data-fact="${esc(k)}">${esc(v == null ? "–" : v)}</span></div>`).join("");
      const done = s.generation == null ? -1 : s.generation;
      const planned = s.planned || 0;
      $("progress-bar").style.width = planned ? Math.min(100, 100 * (done + 1) / (planned + 1)) + "%" : "0";
      let text = s.generation == null
        ? (s.state === "running" ? "generation 0 running (no generation finished yet)" : "no generation finished")
        : `generation ${s.generation} of ${s.planned} finished`;
      if (s.state === "running" && s.eta_seconds != null) { text += ` · about ${duration(s.eta_seconds)} left`; }
      $("progress").textContent = text;
      body.dataset.generation = s.generation == null ? "" : String(s.generation);
      body.dataset.state = s.state;
    }

    function renderPlots() {
      const s = st.summary;
      pareto.options.xlabel = s.size_name + " (log scale)";
      pareto.options.ylabel = "cross-validated " + s.score_name;
      const front = st.front.filter(m => m.score != null && m.size != null);
      pareto.set([
        { kind: "dots", xs: st.cand.size, ys: st.cand.score, color: "#9a9a9a",
          radius: st.cand.score.length > 2000 ? 1.2 : 2.2, alpha: 0.55, robust: true, label: `evaluations (${st.cand.score.length})` },
        { kind: "step", markers: true, xs: front.map(m => m.size), ys: front.map(m => m.score),
          items: front, color: "#d62728", radius: 5, label: `archive (${front.length})` },
      ]);
      const gens = st.history.map(g => g.generation);
      best.options.ylabel = s.score_name;
      best.set([{ kind: "line", markers: true, radius: 2.5, xs: gens, ys: st.history.map(g => g.best_score), color: "#1f77b4" }]);
      hv.options.ylabel = "hypervolume";
      hv.set([{ kind: "line", markers: true, radius: 2.5, xs: gens, ys: st.history.map(g => g.hypervolume), color: "#2ca02c" }]);
    }

    function renderArchive() {
      const names = st.summary ? st.summary.objectives : [];
      archive.querySelector("thead").innerHTML = "<tr><th data-key='index'>#</th>" +
        names.map(n => `<th data-key="o:${esc(n)}" class="num">${esc(n === "score" ? st.summary.score_name : n)}</th>`).join("") +
        "<th data-key='spread' class='num'>± folds</th><th data-key='generation' class='num'>generation</th>" +
        "<th data-key='describe'>architecture</th></tr>";
      const rows = st.front.map(m => {
        const f = (m.folds || []).filter(v => v != null);
        return Object.assign({ spread: f.length > 1 ? (Math.max(...f) - Math.min(...f)) / 2 : 0 }, m);
      });
      const sorted = sortRows(archive, rows, (r, k) => k.startsWith("o:") ? r.objectives[k.slice(2)] : r[k]);
      if (archive._sort) {
        const th = archive.querySelector(`th[data-key="${archive._sort.key}"]`);
        if (th) { th.classList.add(archive._sort.dir > 0 ? "asc" : "desc"); }
      }
      archive.querySelector("tbody").innerHTML = sorted.map(m =>
        `<tr data-hash="${esc(m.hash)}"><td>${m.index}</td>` +
        names.map(n => `<td class="num">${n === "score" ? num(m.objectives[n]) : size(m.objectives[n])}</td>`).join("") +
        `<td class="num">${num(m.spread)}</td><td class="num">${esc(m.generation)}</td><td>${esc(m.describe)}</td></tr>`).join("");
      archive.querySelectorAll("tbody tr").forEach(tr => tr.addEventListener("click", () => openMember(tr.dataset.hash)));
    }

    function renderFailures() {
      const f = st.failures;
      if (!f || !f.count) { $("failures").innerHTML = "<p class='note'>No failed evaluation.</p>"; return; }
      const causes = Object.entries(f.causes).map(([c, n]) => `${esc(c)}: ${n}`).join(", ");
      $("failures").innerHTML = `<p>${f.count} failed evaluation${f.count > 1 ? "s" : ""} by cause: ${causes}` +
        (f.count > f.recent.length ? ` (the last ${f.recent.length} below)` : "") + "</p>" +
        "<table class='failures'><thead><tr><th>generation</th><th>cause</th><th>error</th><th>genome</th></tr></thead><tbody>" +
        f.recent.slice().reverse().map(x => `<tr><td>${x.generation}</td><td>${esc(x.cause)}</td>` +
          `<td>${esc(x.error)}</td><td><a href="#member=${esc(x.hash)}" data-hash="${esc(x.hash)}">${esc((x.hash || "").slice(0, 8))}</a></td></tr>`).join("") +
        "</tbody></table>";
      $("failures").querySelectorAll("a[data-hash]").forEach(a => a.addEventListener("click", e => {
        e.preventDefault(); openMember(a.dataset.hash);
      }));
    }

    function renderSettings() {
      const rows = Object.entries(st.settings || {});
      const versions = st.info && st.info.versions ? Object.entries(st.info.versions).map(([k, v]) => `${k} ${v}`).join(", ") : "";
      $("settings").querySelector("tbody").innerHTML = rows.map(([k, v]) =>
        `<tr><th>${esc(k)}</th><td>${esc(typeof v === "string" ? v : JSON.stringify(v))}</td></tr>`).join("") +
        (versions ? `<tr><th>versions</th><td>${esc(versions)}</td></tr>` : "");
    }

    async function openMember(hash) {
      if (!hash) { return; }
      const panel = $("member");
      const response = await fetch(`/api/member?run=${encodeURIComponent(name)}&hash=${encodeURIComponent(hash)}`);
      panel.hidden = false;
      if (!response.ok) { panel.innerHTML = `<p>member ${esc(hash)} not found</p>`; return; }
      const m = await response.json();
      history.replaceState(null, "", "#member=" + hash);
      panel.dataset.hash = hash;
      const rows = [
        ["score", m.score != null ? num(m.score) : (m.objectives ? num(m.objectives.score) : "–")],
        ["fold scores", (m.fold_scores || []).map(v => num(v)).join(", ") || "–"],
        ["epochs per fold", (m.epochs || []).join(", ") || "–"],
        ["parameters", size(m.n_params)], ["layers", m.layers],
        ["generation", m.generation], ["training seconds", num(m.seconds, 2)],
        ["peak memory MB", num(m.peak_memory_mb, 1)], ["in the archive", m.in_archive ? "yes" : "no"],
        ["parents", (m.parents || []).join(", ") || "–"],
      ].concat(Object.entries(m.hyperparameters || {}).map(([k, v]) => [k, v]))
        .concat(Object.entries(m.preprocessing || {}).map(([k, v]) => [k, v]));
      if (m.objectives) {
        for (const [k, v] of Object.entries(m.objectives)) { if (k !== "score") { rows.push([k, size(v)]); } }
      }
      panel.innerHTML = `<h2>Member <code>${esc(hash)}</code> <button class="close" title="close">×</button></h2>
        <p class="describe">${esc(m.describe || m.problem || "")}</p>
        ${m.error ? `<p class="error">failed: ${esc(m.error)}</p>` : ""}
        <div class="member-grid"><div class="graph">${graphSvg(m.graph)}</div>
        <table class="settings"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v == null ? "–" : v)}</td></tr>`).join("")}</tbody></table></div>
        <p class="note">${m.training_curve ? "" : "Training curve: not recorded (the journal keeps each fold's score and epochs, not per-epoch losses)."}</p>
        ${m.archive_index != null ? `<p class="continue">export it: <code>evosearch export ${esc((dir ? dir + "/" : "") + name)} --member ${m.archive_index}</code></p>` : ""}`;
      panel.querySelector(".close").addEventListener("click", () => { panel.hidden = true; history.replaceState(null, "", "#"); });
      panel.scrollIntoView({ behavior: "smooth", block: "start" });
    }

    function graphSvg(g) {
      if (!g) { return ""; }
      const W = 120, H = 56, CX = 160, CY = 80;
      const xs = g.nodes.map(n => n.x), ys = g.nodes.map(n => n.y);
      const minY = Math.min(...ys), maxY = Math.max(...ys);
      const pos = {};
      for (const n of g.nodes) { pos[n.id] = [20 + n.x * CX + W / 2, 20 + (n.y - minY) / 1.5 * CY + H / 2]; }
      const width = 40 + Math.max(...xs) * CX + W, height = 40 + (maxY - minY) / 1.5 * CY + H;
      const edges = g.edges.map(e => {
        const [x0, y0] = pos[e.source], [x1, y1] = pos[e.target];
        const a = [x0 + W / 2, y0], b = [x1 - W / 2, y1];
        if (e.skip || (y0 === y1 && x1 - x0 > CX * 1.5)) {
          const lift = y0 <= (20 + H / 2) ? -H : H;
          return `<path d="M${x0},${y0 + lift / 2 * 0.9} C${x0},${y0 + lift * 1.2} ${x1},${y1 + lift * 1.2} ${x1},${y1 + lift / 2 * 0.9}" class="edge ${e.skip ? "skip" : ""}" marker-end="url(#arrow)"/>`;
        }
        return `<path d="M${a[0]},${a[1]} L${b[0]},${b[1]}" class="edge" marker-end="url(#arrow)"/>`;
      }).join("");
      const nodes = g.nodes.map(n => {
        const [x, y] = pos[n.id];
        const lines = String(n.label).split("\n");
        const text = lines.map((l, i) => `<tspan x="${x}" dy="${i ? 13 : -(lines.length - 1) * 6.5 + 4}">${esc(l)}</tspan>`).join("");
        return `<g class="node" data-node="${n.id}"><rect x="${x - W / 2}" y="${y - H / 2}" width="${W}" height="${H}" rx="7" fill="${esc(n.colour)}"/>` +
          `<text x="${x}" y="${y}" text-anchor="middle">${text}</text></g>`;
      }).join("");
      return `<svg viewBox="0 0 ${width} ${height + 30}" width="${Math.min(width, 760)}" class="layer-graph">
        <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs><g transform="translate(0,15)">${edges}${nodes}</g></svg>`;
    }

    live("/api/events/run?name=" + encodeURIComponent(name), "run", update);
    const m = location.hash.match(/member=([0-9a-f]+)/);
    if (m) { openMember(m[1]); }
  }

  // ---------------------------------------------------------------- several runs
  function comparePage() {
    const names = JSON.parse(body.dataset.runs);
    let data = null;
    const plots = {
      best_score: new EvoPlot($("cmp-best"), {}),
      hypervolume: new EvoPlot($("cmp-hypervolume"), {}),
    };
    const pareto = new EvoPlot($("cmp-pareto"), { xlog: true, tooltip: p => esc(p.run) + "<br>" + num(p.score) + " at " + size(p.size) });
    const table = $("cmp-runs");
    sortable(table, renderTable);
    $("axis").addEventListener("change", render);

    function render() {
      if (!data) { return; }
      const problems = $("problems");
      problems.hidden = !data.problem;
      if (data.problem) { problems.textContent = "These runs cannot be compared: " + data.problem; return; }
      const axis = $("axis").value;
      $("compare-note").textContent = `${data.runs.length} runs on ${data.dataset}, in ${data.groups.length} group${data.groups.length > 1 ? "s" : ""}` +
        (data.differing.length ? `; they differ in ${data.differing.join(", ")}` : "");
      for (const metric of ["best_score", "hypervolume"]) {
        const plot = plots[metric];
        plot.options.xlabel = data.axes[axis];
        plot.options.ylabel = metric === "best_score" ? "best " + data.score_name : "hypervolume";
        const layers = [];
        data.groups.forEach((g, i) => {
          const c = g.curves[metric][axis];
          layers.push({ kind: "band", xs: c.x, lows: c.low, highs: c.high, color: COLORS[i % 10], alpha: 0.18 });
          layers.push({ kind: "step", xs: c.x, ys: c.median, color: COLORS[i % 10], label: g.label });
        });
        plot.set(layers);
      }
      pareto.options.xlabel = data.size_name + " (log scale)";
      pareto.options.ylabel = data.score_name;
      const layers = [];
      // Fronts by run (curves are by group): two seeds of one setting stay apart.
      data.runs.forEach((r, index) => {
        const pts = r.front.filter(p => p[0] != null && p[1] != null);
        layers.push({ kind: "step", markers: true, radius: 3.5, xs: pts.map(p => p[0]), ys: pts.map(p => p[1]),
          items: pts.map(p => ({ run: r.name, size: p[0], score: p[1] })), color: COLORS[index % 10], label: r.name });
      });
      pareto.set(layers);
      renderTable();
      $("cmp-common").querySelector("tbody").innerHTML = Object.entries(data.common)
        .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("");
    }

    function renderTable() {
      if (!data || data.problem) { return; }
      const cols = data.differing;
      table.querySelector("thead").innerHTML = "<tr><th data-key='name'>run</th><th data-key='state'>state</th>" +
        "<th data-key='group'>group</th>" +
        cols.map(k => `<th data-key="s:${esc(k)}">${esc(k)}</th>`).join("") +
        "<th data-key='f:best_score' class='num'>best " + esc(data.score_name) + "</th><th data-key='f:hypervolume' class='num'>hypervolume</th>" +
        "<th data-key='f:archive_size' class='num'>archive</th><th data-key='f:evaluations' class='num'>evaluations</th>" +
        "<th data-key='f:seconds' class='num'>seconds</th><th data-key='f:generations' class='num'>progress</th></tr>";
      data.runs.forEach((r, index) => { r.index = index; });
      const rows = sortRows(table, data.runs, (r, k) => k.startsWith("s:") ? r.settings[k.slice(2)] : k.startsWith("f:") ? r.final[k.slice(2)] : r[k]);
      table.querySelector("tbody").innerHTML = rows.map(r => `<tr><td><span class="swatch" title="its front" style="background:${COLORS[r.index % 10]}"></span>` +
        `<a href="${esc(runUrl(r.run))}">${esc(r.name)}</a></td><td><span class="state ${esc(r.state)}">${esc(r.state)}</span></td>` +
        `<td><span class="swatch" style="background:${COLORS[r.group % 10]}"></span>${esc(data.groups[r.group].label)}</td>` +
        cols.map(k => `<td>${esc(r.settings[k])}</td>`).join("") +
        `<td class="num">${num(r.final.best_score)}</td><td class="num">${num(r.final.hypervolume)}</td>` +
        `<td class="num">${r.final.archive_size}</td><td class="num">${r.final.evaluations}</td>` +
        `<td class="num">${num(r.final.seconds, 1)}</td><td class="num">${r.final.generations == null ? "–" : r.final.generations} of ${r.final.planned}</td></tr>`).join("");
    }

    const q = names.map(n => "run=" + encodeURIComponent(n)).join("&");
    live("/api/events/compare?" + q, "compare", d => { data = d; render(); });
  }

  const pages = { list: listPage, run: runPage, compare: comparePage };
  pages[body.dataset.page]();
})();
