"""Plots: one module per area; every function takes ``ax=`` and returns the Axes.

Plot functions draw results the library computed; they compute nothing new.
"""

from churnlab.plots.style import (
    MIN_FONT_SIZE,
    PALETTE,
    SLIDE_SIZE,
    axes_or_new,
    export,
    figure_problems,
    figure_title,
    style_context,
    use_style,
)

__all__ = [
    "MIN_FONT_SIZE",
    "PALETTE",
    "SLIDE_SIZE",
    "axes_or_new",
    "export",
    "figure_problems",
    "figure_title",
    "style_context",
    "use_style",
]
