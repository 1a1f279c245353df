package placement

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateConstraints(t *testing.T) {
	memberOf := Constraint{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type =~ t2.*"}
	eleven := make([]Constraint, 11)
	for i := range eleven {
		eleven[i] = memberOf
	}
	tests := []struct {
		name        string
		constraints []Constraint
		want        string // "" for valid
	}{
		{"none", nil, ""},
		{"distinctInstance and memberOf", []Constraint{{Type: ConstraintDistinctInstance}, memberOf}, ""},
		{"ten", eleven[:10], ""},
		{"eleven", eleven, "Too many placement constraints: 11. At most 10 are allowed, including those of the task definition."},
		{"distinctInstance with an expression", []Constraint{{Type: ConstraintDistinctInstance, Expression: "x"}}, "distinctInstance expression should not be specified."},
		{"memberOf without an expression", []Constraint{{Type: ConstraintMemberOf}}, "memberOf expression must be specified."},
		{"memberOf with a bad expression", []Constraint{{Type: ConstraintMemberOf, Expression: "colour == red"}}, "Invalid expression 'colour == red': unknown subject 'colour' at position 1."},
		{"expression over 2000 characters", []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:a in [" + strings.Repeat("b,", 992) + "c]"}}, "memberOf expression must be at most 2000 characters."},
		{"unknown type", []Constraint{{Type: "sameInstance"}}, "Invalid placement constraint type: 'sameInstance'. Valid types are distinctInstance and memberOf."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, ValidateConstraints(tt.constraints), tt.want)
		})
	}
}

func TestValidateTaskDefinitionConstraints(t *testing.T) {
	err := ValidateTaskDefinitionConstraints([]Constraint{{Type: ConstraintDistinctInstance}})
	checkInvalid(t, err, "constraint.type 'distinctInstance' is not supported.")
	checkInvalid(t, ValidateTaskDefinitionConstraints([]Constraint{{Type: ConstraintMemberOf, Expression: "agentConnected == true"}}), "")
}

func TestValidateStrategies(t *testing.T) {
	spread := Strategy{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}
	tests := []struct {
		name       string
		strategies []Strategy
		want       string
	}{
		{"none", nil, ""},
		{"documented combinations", []Strategy{spread, {Type: StrategySpread, Field: FieldInstanceID}, {Type: StrategySpread, Field: FieldHost},
			{Type: StrategyBinpack, Field: FieldMemory}, {Type: StrategyBinpack, Field: "CPU"}}, ""},
		{"random", []Strategy{{Type: StrategyRandom}}, ""},
		{"six", []Strategy{spread, spread, spread, spread, spread, spread}, "Too many placement strategies: 6. At most 5 are allowed."},
		{"binpack on disk", []Strategy{{Type: StrategyBinpack, Field: "disk"}}, "Invalid field for binpack placement strategy: 'disk'. Valid fields are cpu and memory."},
		{"binpack without a field", []Strategy{{Type: StrategyBinpack}}, "Invalid field for binpack placement strategy: ''. Valid fields are cpu and memory."},
		{"spread without a field", []Strategy{{Type: StrategySpread}}, "spread placement strategy field must be specified."},
		{"spread on a bare name", []Strategy{{Type: StrategySpread, Field: "ecs.availability-zone"}}, "Invalid field for spread placement strategy: 'ecs.availability-zone'. Valid fields are instanceId, host and attribute:<name>."},
		{"spread on an empty attribute", []Strategy{{Type: StrategySpread, Field: "attribute:"}}, "Invalid field for spread placement strategy: 'attribute:'. Valid fields are instanceId, host and attribute:<name>."},
		{"random with a field", []Strategy{{Type: StrategyRandom, Field: "cpu"}}, "random placement strategy field should not be specified."},
		{"unknown type", []Strategy{{Type: "pack"}}, "Invalid placement strategy type: 'pack'. Valid types are random, spread and binpack."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, ValidateStrategies(tt.strategies), tt.want)
		})
	}
}

// checkInvalid checks that err is an *InvalidParameterError saying want,
// or nil when want is "".
func checkInvalid(t *testing.T, err error, want string) {
	t.Helper()
	var got string
	var ipe *InvalidParameterError
	switch {
	case err == nil:
	case errors.As(err, &ipe):
		got = ipe.Message
	default:
		t.Fatalf("got %v, want an *InvalidParameterError", err)
	}
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
