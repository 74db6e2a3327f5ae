"""Network Canvas and GraphML interchange: read an export into a neutral shape, map its variables
onto Kithkin's fields, import it in one transaction; and write the map back out in the same layout.

- ``formats``: the neutral shape (:class:`ParsedNetwork`), limits and the error every parser raises;
- ``nc_csv`` and ``graphml``: read and write one format each;
- ``mapping``: which variables a file has, what they probably mean, and how to apply a mapping;
- ``importer``: uploads and ZIPs, the pending import kept between the two screens, and the import;
- ``exporter``: the map as GraphML or as a ZIP of Network Canvas CSVs.
"""
