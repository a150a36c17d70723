"""Search the catalog for a workload: recommend and the sweeps behind the charts."""
