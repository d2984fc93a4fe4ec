"""Pipeline wiring and the runners that hand it to an orchestrator."""
