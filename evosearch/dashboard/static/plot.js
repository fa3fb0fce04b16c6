/* evosearch dashboard: a small canvas plotter (scatter, lines, steps, bands), no dependencies.
 *
 * new EvoPlot(canvas, {xlabel, ylabel, xlog, tooltip(point) -> HTML, click(point)})
 * plot.set(layers): layers drawn in order, each {kind: "dots"|"line"|"step"|"band",
 *   xs, ys, (lows, highs for a band), color, radius, alpha, items (one per point: makes the
 *   layer's points hoverable and clickable), label (in the legend)}.
 * plot.points() -> [{x, y, item}] in CSS pixels of the canvas (tests hover them).
 */
(function (global) {
  "use strict";
  const PAD = { left: 58, right: 14, top: 12, bottom: 38 };

  function finite(v) { return typeof v === "number" && isFinite(v); }

  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) { return [lo]; }
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || raw;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }

  // Ticks of a log axis (exponents lo..hi): the decades, with 2 and 5 times them when the
  // axis spans fewer than three.
  function logTicks(lo, hi) {
    const ticks = [];
    const mults = hi - lo < 3 ? [1, 2, 5] : [1];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
      for (const m of mults) {
        const v = m * Math.pow(10, e), l = Math.log10(v);
        if (l >= lo && l <= hi) { ticks.push(v); }
      }
    }
    return ticks;
  }

  function tickLabel(v) {
    const a = Math.abs(v);
    if (a >= 1e6 || (a > 0 && a < 1e-3)) { return v.toExponential(0).replace("e+", "e"); }
    if (a >= 1e4) { return (v / 1e3).toFixed(0) + "k"; }
    return String(+v.toPrecision(4));
  }

  function EvoPlot(canvas, options) {
    this.canvas = canvas;
    this.options = options || {};
    this.layers = [];
    this.hit = [];
    this.hover = null;
    canvas._plot = this;
    const tip = document.createElement("div");
    tip.className = "plot-tip";
    tip.hidden = true;
    document.body.appendChild(tip);
    this.tip = tip;
    canvas.addEventListener("mousemove", e => this._move(e));
    canvas.addEventListener("mouseleave", () => this._leave());
    canvas.addEventListener("click", e => {
      this._move(e);
      if (this.hover && this.options.click) { this.options.click(this.hover); }
    });
  }

  EvoPlot.prototype.set = function (layers) {
    this.layers = layers;
    if (!this._pending) {
      this._pending = true;
      const draw = () => { this._pending = false; this.draw(); };
      if (global.requestAnimationFrame && !document.hidden) { requestAnimationFrame(draw); }
      else { setTimeout(draw, 0); }
    }
  };

  EvoPlot.prototype._range = function () {
    const xlog = this.options.xlog;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const layer of this.layers) {
      const ys = layer.kind === "band" ? layer.lows.concat(layer.highs) : layer.ys;
      const xs = layer.kind === "band" ? layer.xs.concat(layer.xs) : layer.xs;
      // A cloud of thousands of points: its worst scores would squash the front, so the
      // axis starts at its 2nd percentile (points below it are not drawn).
      let floor = -Infinity;
      if (layer.robust && ys.length > 50) {
        // Sorting 50,000 scores on every update would cost more than drawing them: the
        // percentile is kept while the cloud grows by less than 5 %.
        const cache = this._floors || (this._floors = {});
        const kept = cache[this.layers.indexOf(layer)];
        if (kept && ys.length < kept.n * 1.05 && ys.length >= kept.n) { floor = kept.floor; }
        else {
          const sorted = ys.filter(finite).sort((a, b) => a - b);
          floor = sorted[Math.floor(sorted.length * 0.02)];
          cache[this.layers.indexOf(layer)] = { n: ys.length, floor };
        }
      }
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i], y = ys[i];
        if (!finite(x) || !finite(y) || (xlog && x <= 0) || y < floor) { continue; }
        const xv = xlog ? Math.log10(x) : x;
        if (xv < x0) { x0 = xv; } if (xv > x1) { x1 = xv; }
        if (y < y0) { y0 = y; } if (y > y1) { y1 = y; }
      }
    }
    if (x0 === Infinity) { return null; }
    if (x1 === x0) { x0 -= 0.5; x1 += 0.5; }
    if (y1 === y0) { y0 -= 0.05 * (Math.abs(y0) || 1); y1 += 0.05 * (Math.abs(y1) || 1); }
    const mx = (x1 - x0) * 0.04, my = (y1 - y0) * 0.06;
    return { x0: x0 - mx, x1: x1 + mx, y0: y0 - my, y1: y1 + my };
  };

  EvoPlot.prototype.draw = function () {
    const t0 = performance.now();
    this._draw();
    this.drawMs = performance.now() - t0;
    this.drawn = (this.drawn || 0) + 1;
  };

  EvoPlot.prototype._draw = function () {
    const canvas = this.canvas, o = this.options;
    const dpr = global.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(w * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    this.hit = [];
    const r = this._range();
    if (!r) {
      ctx.fillStyle = "#888"; ctx.textAlign = "center";
      ctx.fillText(o.empty || "nothing to plot yet", w / 2, h / 2);
      return;
    }
    // Named layers get a legend line in the top margin, never over the points.
    const top = this.layers.some(l => l.label) ? PAD.top + 14 : PAD.top;
    const pw = w - PAD.left - PAD.right, ph = h - top - PAD.bottom;
    const sx = v => PAD.left + ((o.xlog ? Math.log10(v) : v) - r.x0) / (r.x1 - r.x0) * pw;
    const sy = v => top + (1 - (v - r.y0) / (r.y1 - r.y0)) * ph;
    this.scale = { sx, sy };
    // Axes and grid.
    ctx.strokeStyle = "#e3e3e3"; ctx.fillStyle = "#555"; ctx.lineWidth = 1;
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of niceTicks(r.y0, r.y1, 5)) {
      const y = Math.round(sy(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(PAD.left, y); ctx.lineTo(w - PAD.right, y); ctx.stroke();
      ctx.fillText(tickLabel(t), PAD.left - 5, y);
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    let xticks = o.xlog ? logTicks(r.x0, r.x1) : niceTicks(r.x0, r.x1, 6);
    if (o.xint) { xticks = xticks.filter(Number.isInteger); }
    for (const t of xticks) {
      const x = Math.round(sx(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, h - PAD.bottom); ctx.stroke();
      ctx.fillText(tickLabel(t), x, h - PAD.bottom + 4);
    }
    ctx.strokeStyle = "#999";
    ctx.strokeRect(PAD.left + 0.5, top + 0.5, pw, ph);
    if (o.xlabel) { ctx.fillText(o.xlabel, PAD.left + pw / 2, h - 16); }
    if (o.ylabel) {
      ctx.save(); ctx.translate(12, top + ph / 2); ctx.rotate(-Math.PI / 2);
      ctx.fillText(o.ylabel, 0, -6); ctx.restore();
    }
    ctx.save();
    ctx.beginPath(); ctx.rect(PAD.left, top, pw, ph); ctx.clip();
    const ok = (x, y) => finite(x) && finite(y) && !(o.xlog && x <= 0);
    for (const layer of this.layers) {
      ctx.globalAlpha = layer.alpha == null ? 1 : layer.alpha;
      ctx.fillStyle = ctx.strokeStyle = layer.color || "#1f77b4";
      ctx.lineWidth = layer.width || 1.8;
      if (layer.kind === "band") {
        ctx.beginPath();
        let started = false;
        for (let i = 0; i < layer.xs.length; i++) {
          if (!ok(layer.xs[i], layer.highs[i])) { continue; }
          if (!started) { ctx.moveTo(sx(layer.xs[i]), sy(layer.highs[i])); started = true; }
          else { ctx.lineTo(sx(layer.xs[i]), sy(layer.highs[i])); }
        }
        for (let i = layer.xs.length - 1; i >= 0; i--) {
          if (ok(layer.xs[i], layer.lows[i])) { ctx.lineTo(sx(layer.xs[i]), sy(layer.lows[i])); }
        }
        ctx.fill();
      } else if (layer.kind === "line" || layer.kind === "step") {
        ctx.beginPath();
        let prev = null;
        for (let i = 0; i < layer.xs.length; i++) {
          const x = layer.xs[i], y = layer.ys[i];
          if (!ok(x, y)) { continue; }
          if (!prev) { ctx.moveTo(sx(x), sy(y)); }
          else if (layer.kind === "step") { ctx.lineTo(sx(x), sy(prev[1])); ctx.lineTo(sx(x), sy(y)); }
          else { ctx.lineTo(sx(x), sy(y)); }
          prev = [x, y];
        }
        ctx.stroke();
      }
      if (layer.kind === "dots" || layer.markers) {
        const rad = layer.radius || 3;
        if (rad <= 1.5 && !layer.items) {
          // Thousands of points: one path of squares, filled once, is several times faster
          // than a fill per point.
          ctx.beginPath();
          for (let i = 0; i < layer.xs.length; i++) {
            const x = layer.xs[i], y = layer.ys[i];
            if (ok(x, y)) { ctx.rect(sx(x) - rad, sy(y) - rad, 2 * rad, 2 * rad); }
          }
          ctx.fill();
          continue;
        }
        for (let i = 0; i < layer.xs.length; i++) {
          const x = layer.xs[i], y = layer.ys[i];
          if (!ok(x, y)) { continue; }
          const px = sx(x), py = sy(y);
          ctx.beginPath(); ctx.arc(px, py, rad, 0, 2 * Math.PI); ctx.fill();
          if (layer.items) { this.hit.push({ x: px, y: py, item: layer.items[i], layer }); }
        }
      }
    }
    ctx.restore();
    ctx.globalAlpha = 1;
    if (this.hover) {
      const found = this.hit.find(p => p.item === this.hover);
      if (found) {
        ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.arc(found.x, found.y, (found.layer.radius || 3) + 3, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    this._legend(ctx, w);
  };

  EvoPlot.prototype._legend = function (ctx, w) {
    let x = PAD.left;
    ctx.textAlign = "left"; ctx.textBaseline = "middle"; ctx.globalAlpha = 1;
    for (const layer of this.layers.filter(l => l.label)) {
      const tw = ctx.measureText(layer.label).width;
      if (x + tw + 20 > w) { break; }
      ctx.fillStyle = layer.color || "#1f77b4"; ctx.fillRect(x, PAD.top - 4, 12, 8);
      ctx.fillStyle = "#333"; ctx.fillText(layer.label, x + 16, PAD.top);
      x += tw + 32;
    }
  };

  EvoPlot.prototype.points = function () {
    return this.hit.map(p => ({ x: p.x, y: p.y, item: p.item }));
  };

  EvoPlot.prototype._move = function (e) {
    const rect = this.canvas.getBoundingClientRect();
    const mx = e.clientX - rect.left, my = e.clientY - rect.top;
    let best = null, bestD = 100; // within 10 px
    for (const p of this.hit) {
      const d = (p.x - mx) * (p.x - mx) + (p.y - my) * (p.y - my);
      if (d <= bestD) { best = p; bestD = d; }
    }
    const item = best ? best.item : null;
    this.canvas.style.cursor = item ? "pointer" : "default";
    if (item !== this.hover) { this.hover = item; this.draw(); }
    if (item && this.options.tooltip) {
      this.tip.innerHTML = this.options.tooltip(item);
      this.tip.hidden = false;
      const left = Math.min(e.pageX + 14, global.scrollX + document.documentElement.clientWidth - 330);
      this.tip.style.left = left + "px";
      this.tip.style.top = (e.pageY + 14) + "px";
    } else {
      this.tip.hidden = true;
    }
  };

  EvoPlot.prototype._leave = function () {
    this.tip.hidden = true;
    if (this.hover) { this.hover = null; this.draw(); }
  };

  global.EvoPlot = EvoPlot;
})(window);
