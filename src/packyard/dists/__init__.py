"""Reading distribution files: filenames, core metadata, archive members, digests, limits.

Nothing here touches the network, the database or a web framework: give it a path and a
file name, get plain data back or an ``InvalidDistribution`` naming what is wrong.
"""

from packyard.dists.digests import MultiHasher
from packyard.dists.filenames import ParsedFilename, parse_filename
from packyard.dists.inspection import Inspection, inspect_distribution
from packyard.dists.limits import ArchiveLimits
from packyard.dists.metadata import CoreMetadata, parse_core_metadata

__all__ = [
    "ArchiveLimits",
    "CoreMetadata",
    "Inspection",
    "MultiHasher",
    "ParsedFilename",
    "inspect_distribution",
    "parse_core_metadata",
    "parse_filename",
]
