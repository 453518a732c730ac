"""The extract loader: read, validate, quarantine and load users' files (contract sections 1 and 3).

    from pathway.ingest import load_file, load_files, LoadSummary, LoadRefused
"""

from pathway.ingest.loader import LoadRefused, LoadSummary, load_file, load_files

__all__ = ["load_file", "load_files", "LoadSummary", "LoadRefused"]
