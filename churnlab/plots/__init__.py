"""Plots: one module per area; every function takes ``ax=`` and returns the Axes.

Plot functions draw results the library computed; they compute nothing new.
"""

from churnlab.plots.style import (
    PALETTE,
    SLIDE_SIZE,
    axes_or_new,
    export,
    style_context,
    use_style,
)

__all__ = ["PALETTE", "SLIDE_SIZE", "axes_or_new", "export", "style_context", "use_style"]
