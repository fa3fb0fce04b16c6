"""(placeholder: filled in by the plug-in redesign)."""
