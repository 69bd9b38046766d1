"""Segmentation workspaces: label-map datasets, scoring a segmenter over a split into small
per-image rows, browsing by mIoU and class, and rendering maps for the pages.

Built on the stages below it (label maps in `robustar.data`, segmenters in
`robustar.models`, metrics in `robustar.predict.segmetrics`, training in `robustar.train`);
`Workspace.segmentation` composes it for a workspace whose `[data] task` is segmentation.
"""
