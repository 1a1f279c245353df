package awsproto_test

import (
	"testing"

	"overcast/internal/awsproto"
	"overcast/internal/awsproto/prototest"
)

func TestProtocolConformance(t *testing.T) {
	awsproto.RunProtocolConformance(t, prototest.Types)
}
