package ecs

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/store"
)

const (
	maxCustomAttributes = 10
	targetInstance      = "container-instance"
)

var (
	attributeNamePattern  = regexp.MustCompile(`^[a-zA-Z0-9_./\\-]{1,128}$`)
	attributeValuePattern = regexp.MustCompile(`^[a-zA-Z0-9_.@/\\: -]{1,128}$`)
)

// changeAttributes applies fn to the custom attributes of each target the
// request's attributes name, grouped by target.
func (s *Service) changeAttributes(ctx context.Context, clusterRef *string, attrs api.Attributes,
	fn func(ci *containerInstance, a api.Attribute) error) (api.Attributes, error) {
	for _, a := range attrs {
		if t := deref(a.TargetType); t != "" && t != targetInstance {
			return nil, invalidParameter("The target type %s is not supported. Specify container-instance.", t)
		}
		if deref(a.TargetId) == "" {
			return nil, invalidParameter("The attribute %s does not specify a targetId.", deref(a.Name))
		}
	}
	sc := overcast.ScopeOf(ctx)
	var out api.Attributes
	err := s.update(ctx, func(tx store.Tx) error {
		out = api.Attributes{}
		c, _, err := s.activeCluster(tx, sc, clusterRef)
		if err != nil {
			return err
		}
		changed := map[string]containerInstance{}
		versions := map[string]int64{}
		for _, a := range attrs {
			ci, ok := changed[deref(a.TargetId)]
			if !ok {
				var v int64
				ci, v, err = s.readInstance(tx, sc, new(c.Name), deref(a.TargetId))
				if isNotFound(err) || (err == nil && (ci.Cluster != c.Name || ci.Status == statusInactive)) {
					return api.NewTargetNotFoundException("Could not find %s.", deref(a.TargetId))
				}
				if err != nil {
					return err
				}
				versions[deref(a.TargetId)] = v
			}
			if err := fn(&ci, a); err != nil {
				return err
			}
			changed[deref(a.TargetId)] = ci
			out = append(out, api.Attribute{Name: a.Name, Value: a.Value, TargetType: new(targetInstance), TargetId: new(ci.ARN)})
		}
		for ref, ci := range changed {
			if err := s.putInstance(tx, sc, &ci, versions[ref]); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (s *Service) PutAttributes(ctx context.Context, in *api.PutAttributesRequest) (*api.PutAttributesResponse, error) {
	if len(in.Attributes) > maxCustomAttributes {
		return nil, api.NewAttributeLimitExceededException("You can put up to %d attributes in a single call.", maxCustomAttributes)
	}
	for _, a := range in.Attributes {
		name, value := deref(a.Name), deref(a.Value)
		if !attributeNamePattern.MatchString(name) {
			return nil, invalidParameter("Attribute name %s is invalid. Up to 128 letters (uppercase and lowercase), numbers, hyphens, underscores, forward slashes, back slashes, and periods are allowed.", name)
		}
		if a.Value != nil && (!attributeValuePattern.MatchString(value) || value != strings.TrimSpace(value)) {
			return nil, invalidParameter("Attribute value %s is invalid. Up to 128 letters (uppercase and lowercase), numbers, hyphens, underscores, periods, at signs (@), forward slashes, back slashes, colons, and spaces are allowed; it cannot start or end with a space.", value)
		}
		if isReservedAttribute(name) {
			return nil, invalidParameter("Attribute names starting with ecs. or com.amazonaws.ecs. are reserved for Amazon ECS.")
		}
	}
	out, err := s.changeAttributes(ctx, in.Cluster, in.Attributes, func(ci *containerInstance, a api.Attribute) error {
		ci.Attributes = mergeAttributes(ci.Attributes, []attribute{{Name: deref(a.Name), Value: deref(a.Value), Custom: true}})
		custom := 0
		for _, at := range ci.Attributes {
			if at.Custom {
				custom++
			}
		}
		if custom > maxCustomAttributes {
			return api.NewAttributeLimitExceededException("You can apply up to %d custom attributes for each resource.", maxCustomAttributes)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.PutAttributesResponse{Attributes: out}, nil
}

func (s *Service) DeleteAttributes(ctx context.Context, in *api.DeleteAttributesRequest) (*api.DeleteAttributesResponse, error) {
	out, err := s.changeAttributes(ctx, in.Cluster, in.Attributes, func(ci *containerInstance, a api.Attribute) error {
		ci.Attributes = slices.DeleteFunc(ci.Attributes, func(at attribute) bool { return at.Custom && at.Name == deref(a.Name) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteAttributesResponse{Attributes: out}, nil
}

func isReservedAttribute(name string) bool {
	return hasPrefixFold(name, "ecs.") || hasPrefixFold(name, "com.amazonaws.ecs.")
}

func (s *Service) ListAttributes(ctx context.Context, in *api.ListAttributesRequest) (*api.ListAttributesResponse, error) {
	if deref(in.TargetType) != targetInstance {
		return nil, invalidParameter("The target type %s is not supported. Specify container-instance.", deref(in.TargetType))
	}
	if in.AttributeValue != nil && in.AttributeName == nil {
		return nil, invalidParameter("attributeValue is specified without attributeName.")
	}
	sc := overcast.ScopeOf(ctx)
	out := &api.ListAttributesResponse{}
	var err error
	out.Attributes, out.NextToken, err = collectPage(ctx, s, in.NextToken, in.MaxResults, func(tx store.Tx, add func(api.Attribute)) error {
		c, _, err := s.activeCluster(tx, sc, in.Cluster)
		if err != nil {
			return err
		}
		return store.ScanJSON(tx, instancesTable, store.ScanOptions{Prefix: sc.Key(c.Name + "/")}, func(_ string, ci containerInstance, _ int64) error {
			if ci.Status == statusInactive {
				return nil
			}
			for _, a := range attributesOf(ci, true) {
				if in.AttributeName != nil && deref(a.Name) != *in.AttributeName {
					continue
				}
				if in.AttributeValue != nil && deref(a.Value) != *in.AttributeValue {
					continue
				}
				add(a)
			}
			return nil
		})
	})
	return out, err
}
