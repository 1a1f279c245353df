package awsproto

import "overcast"

// NewRequestID returns a random request ID shaped like AWS's (a UUID).
func NewRequestID() string { return overcast.NewUUID() }
