from conftest_probe import fault_log, fault_server, hostile_server, smollm_server  # noqa: F401 - probe fixtures
