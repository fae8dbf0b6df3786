"""Many files through one pipeline, on whatever runs the files in parallel: the CLI's
process pool (``lkframes convert``/``run`` with many inputs), or Ray Data on a cluster.

```python
import ray
from lkframes.batch import BatchSummary, FileProcessor, plan_files

jobs = plan_files(["corpus/"], "out/", ext=".wav")  # rows: {"input": ..., "output": ...}
results = ray.data.from_items(jobs).map(FileProcessor("to16k.yaml")).take_all()
print(BatchSummary.of(results))
```

Every file is written beside its output and renamed into place when complete, so a batch
that was killed is resumed by running it again; one file's failure is a row with an
``error``, not an exception that stops the batch.
"""

from __future__ import annotations

from ._plan import AUDIO_SUFFIXES as AUDIO_SUFFIXES
from ._plan import FileJob as FileJob
from ._plan import plan_files as plan_files
from ._process import BatchSummary as BatchSummary
from ._process import FileProcessor as FileProcessor
from ._process import FileResult as FileResult
from ._process import output_ext as output_ext
from ._process import process_file as process_file

__all__ = (
    "AUDIO_SUFFIXES",
    "BatchSummary",
    "FileJob",
    "FileProcessor",
    "FileResult",
    "output_ext",
    "plan_files",
    "process_file",
)
