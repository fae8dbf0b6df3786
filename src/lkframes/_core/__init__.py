"""The private core: errors, formats, frames, the frame buffer, sample arithmetic, the
`Stream` and `Stage` shapes, the stage registry, resources and `run_sync`.

Everything else in lkframes is built on these and they import nothing above them.
"""
