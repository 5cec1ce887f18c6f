//! A Sage stand-in for tests, benchmarks and the demo. (Filled in by the simulator issue.)
