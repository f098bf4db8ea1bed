"""Pure, vectorized knowledge of each kind of value (names, companies, titles, phones ...), shared by rules, profile, matching and survivorship."""
