package placement

import (
	"fmt"
	"strings"
)

// Limits of the ECS API: 10 constraints per task, counting the task
// definition's, and 5 strategies (the API reference; an older developer
// guide said 4).
const (
	maxConstraints = 10
	maxStrategies  = 5
	// PlacementConstraint.expression in the API reference.
	maxExpressionLength = 2000
)

// ValidateConstraints checks placement constraints as CreateService,
// UpdateService and RunTask do; pass the task definition's constraints and
// the request's together. Messages are ECS's where known.
func ValidateConstraints(constraints []Constraint) error {
	return validateAll(constraints, maxConstraints,
		"Too many placement constraints: %d. At most %d are allowed, including those of the task definition.",
		validateConstraint)
}

// ValidateTaskDefinitionConstraints checks a task definition's constraints
// (RegisterTaskDefinition), which can only be memberOf.
func ValidateTaskDefinitionConstraints(constraints []Constraint) error {
	for _, c := range constraints {
		if c.Type == ConstraintDistinctInstance {
			return invalid("constraint.type 'distinctInstance' is not supported.")
		}
	}
	return ValidateConstraints(constraints)
}

// ValidateStrategies checks placement strategies: binpack takes cpu or
// memory, spread a field (instanceId, host or attribute:<name>), random
// none.
func ValidateStrategies(strategies []Strategy) error {
	return validateAll(strategies, maxStrategies,
		"Too many placement strategies: %d. At most %d are allowed.",
		validateStrategy)
}

func validateConstraint(c Constraint) error {
	switch c.Type {
	case ConstraintDistinctInstance:
		if c.Expression != "" {
			return invalid("distinctInstance expression should not be specified.")
		}
	case ConstraintMemberOf:
		if strings.TrimSpace(c.Expression) == "" {
			return invalid("memberOf expression must be specified.")
		}
		if len(c.Expression) > maxExpressionLength {
			return invalid("memberOf expression must be at most %d characters.", maxExpressionLength)
		}
		if _, err := Parse(c.Expression); err != nil {
			return &InvalidParameterError{Message: err.Error()}
		}
	default:
		return invalid("Invalid placement constraint type: '%s'. Valid types are distinctInstance and memberOf.", c.Type)
	}
	return nil
}

func validateStrategy(s Strategy) error {
	switch s.Type {
	case StrategyBinpack:
		if f := strings.ToLower(s.Field); f != FieldCPU && f != FieldMemory {
			return invalid("Invalid field for binpack placement strategy: '%s'. Valid fields are cpu and memory.", s.Field)
		}
	case StrategySpread:
		switch {
		case s.Field == "":
			return invalid("spread placement strategy field must be specified.")
		case s.Field == FieldInstanceID, s.Field == FieldHost:
		case strings.HasPrefix(s.Field, attributePrefix) && len(s.Field) > len(attributePrefix):
		default:
			return invalid("Invalid field for spread placement strategy: '%s'. Valid fields are instanceId, host and attribute:<name>.", s.Field)
		}
	case StrategyRandom:
		if s.Field != "" {
			return invalid("random placement strategy field should not be specified.")
		}
	default:
		return invalid("Invalid placement strategy type: '%s'. Valid types are random, spread and binpack.", s.Type)
	}
	return nil
}

// validateAll checks the number of items against limit (tooMany formats
// the count and the limit), then each item.
func validateAll[T any](items []T, limit int, tooMany string, each func(T) error) error {
	if len(items) > limit {
		return invalid(tooMany, len(items), limit)
	}
	for _, item := range items {
		if err := each(item); err != nil {
			return err
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return &InvalidParameterError{Message: fmt.Sprintf(format, args...)}
}
