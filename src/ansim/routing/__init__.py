"""Risk-aware routing: street networks as arrays, a CCH engine with a Dijkstra oracle, and the route planner."""
