package awsproto

import "overcast/internal/ids"

// requestIDs draws request IDs; they need no seeding, tests never predict them.
var requestIDs = ids.Random()

// NewRequestID returns a random request ID shaped like AWS's (a UUID).
func NewRequestID() string { return requestIDs.UUID() }
