"""`bridge eval`: conversation scenarios played through the simulator, scored."""
