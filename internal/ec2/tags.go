package ec2

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	api "overcast/internal/api/ec2"
	"overcast/internal/service"
	"overcast/internal/store"
)

const maxTags = 50

func apiTags(tags map[string]string) api.TagList {
	out := api.TagList{}
	for _, k := range sortedKeys(tags) {
		out = append(out, api.Tag{Key: new(k), Value: new(tags[k])})
	}
	return out
}

type reservedTagsKey struct{}

// WithReservedTags is ctx for a RunInstances that a service makes on its
// own behalf, adding tags of AWS's reserved aws: prefix that the API
// refuses from users: an Auto Scaling group's instances carry
// aws:autoscaling:groupName from their launch, so that whoever sees them
// start (ECS's agent joining a cluster) knows their group.
func WithReservedTags(ctx context.Context, tags map[string]string) context.Context {
	return context.WithValue(ctx, reservedTagsKey{}, tags)
}

func reservedTagsOf(ctx context.Context) map[string]string {
	tags, _ := ctx.Value(reservedTagsKey{}).(map[string]string)
	return tags
}

// checkTags validates tags as CreateTags and TagSpecifications do.
func checkTags(tags []api.Tag) error {
	for _, t := range tags {
		key := service.Deref(t.Key)
		switch {
		case t.Key == nil:
			return missingParameter("Tag.Key")
		case key == "" || len(key) > 128:
			return invalidParameterValue("Tag key must be between 1 and 128 characters; '%s' is not", key)
		case strings.HasPrefix(strings.ToLower(key), "aws:"):
			return invalidParameterValue("Value ( %s ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use", key)
		case len(service.Deref(t.Value)) > 256:
			return invalidParameterValue("Tag value for key '%s' must be at most 256 characters", key)
		}
	}
	return nil
}

// specTags are the tags TagSpecifications give a resource of resourceType.
// A specification for a type the call does not create is refused; ignored
// names types the call accepts without making them (RunInstances' volumes).
func specTags(specs []api.TagSpecification, resourceType string, others ...string) (map[string]string, error) {
	tags := map[string]string{}
	for _, spec := range specs {
		rt := service.Deref(spec.ResourceType)
		if rt != resourceType && !contains(others, rt) {
			return nil, invalidParameterValue("'%s' is not a valid taggable resource type for this operation.", rt)
		}
		if err := checkTags(spec.Tags); err != nil {
			return nil, err
		}
		if rt != resourceType {
			continue
		}
		for _, t := range spec.Tags {
			tags[service.Deref(t.Key)] = service.Deref(t.Value)
		}
	}
	if len(tags) > maxTags {
		return nil, badRequest("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// resourceNotFound is the error for a resource ID naming nothing, by type.
func resourceNotFound(id string) error {
	switch resourceType(id) {
	case "vpc":
		return notFound("InvalidVpcID.NotFound", "vpc", []string{id})
	case "subnet":
		return notFound("InvalidSubnetID.NotFound", "subnet", []string{id})
	case "security-group":
		return groupNotFound(id)
	case "instance":
		return notFound("InvalidInstanceID.NotFound", "instance", []string{id})
	case "network-interface":
		return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface", []string{id})
	}
	return badRequest("InvalidID", "The ID '%s' is not valid", id)
}

// retag changes the tags of the resources ids name, in one transaction: a
// record's tags are its "tags" field, whatever its type.
func (s *Service) retag(ctx context.Context, ids []string, change func(tags map[string]string)) error {
	sc := scopeOf(ctx)
	if _, err := s.ensureDefaults(ctx, sc); err != nil {
		return err
	}
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		for _, id := range ids {
			table, ok := tableOf(id)
			if !ok {
				return badRequest("InvalidID", "The ID '%s' is not valid", id)
			}
			var record map[string]json.RawMessage
			version, err := store.GetJSON(tx, table, sc.Key(id), &record)
			if errors.Is(err, store.ErrNotFound) {
				return resourceNotFound(id)
			}
			if err != nil {
				return err
			}
			tags := map[string]string{}
			if raw, ok := record["tags"]; ok {
				if err := json.Unmarshal(raw, &tags); err != nil {
					return err
				}
			}
			change(tags)
			if len(tags) > maxTags {
				return badRequest("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
			}
			record["tags"], _ = json.Marshal(tags)
			if len(tags) == 0 {
				delete(record, "tags")
			}
			if _, err := store.PutJSON(tx, table, sc.Key(id), record, version); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateTags adds or overwrites tags on resources.
func (s *Service) CreateTags(ctx context.Context, in *api.CreateTagsRequest) error {
	if err := checkTags(in.Tags); err != nil {
		return err
	}
	return s.retag(ctx, in.Resources, func(tags map[string]string) {
		for _, t := range in.Tags {
			tags[service.Deref(t.Key)] = service.Deref(t.Value)
		}
	})
}

// DeleteTags removes tags from resources: all of them when the request
// names none, a key whatever its value when a tag has no value, and a key
// only with that value otherwise.
func (s *Service) DeleteTags(ctx context.Context, in *api.DeleteTagsRequest) error {
	return s.retag(ctx, in.Resources, func(tags map[string]string) {
		if len(in.Tags) == 0 {
			clear(tags)
		}
		for _, t := range in.Tags {
			key := service.Deref(t.Key)
			if t.Value == nil || tags[key] == *t.Value {
				delete(tags, key)
			}
		}
	})
}

// tagDescription is one tag of one resource, as DescribeTags lists it.
type tagDescription struct{ ResourceID, Key, Value string }

// taggedTables are the tables DescribeTags reads, in the order it lists
// their resources.
var taggedTables = []string{instancesTable, interfacesTable, groupsTable, subnetsTable, vpcsTable}

// DescribeTags lists the tags of the scope's resources.
func (s *Service) DescribeTags(ctx context.Context, in *api.DescribeTagsRequest) (*api.DescribeTagsResult, error) {
	sc := scopeOf(ctx)
	if _, err := s.ensureDefaults(ctx, sc); err != nil {
		return nil, err
	}
	var all []tagDescription
	err := s.Store.View(ctx, func(tx store.Tx) error {
		for _, table := range taggedTables {
			err := store.ScanJSON(tx, table, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, r struct {
				ID   string            `json:"id"`
				Tags map[string]string `json:"tags"`
			}, _ int64) error {
				for _, k := range sortedKeys(r.Tags) {
					all = append(all, tagDescription{ResourceID: r.ID, Key: k, Value: r.Tags[k]})
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := describe(all, tagDescriptionFilters, in.Filters, in.NextToken, in.MaxResults,
		func(t tagDescription) string { return t.ResourceID + "\x00" + t.Key }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeTagsResult{NextToken: next, Tags: api.TagDescriptionList{}}
	for _, t := range page {
		out.Tags = append(out.Tags, api.TagDescription{ResourceId: new(t.ResourceID), ResourceType: new(resourceType(t.ResourceID)),
			Key: new(t.Key), Value: new(t.Value)})
	}
	return out, nil
}

var tagDescriptionFilters = fields[tagDescription]{values: map[string]func(tagDescription) any{
	"key":           func(t tagDescription) any { return t.Key },
	"value":         func(t tagDescription) any { return t.Value },
	"resource-id":   func(t tagDescription) any { return t.ResourceID },
	"resource-type": func(t tagDescription) any { return resourceType(t.ResourceID) },
}, more: func(t tagDescription, name string) ([]string, bool) {
	// tag:<key> is the tags of that key; DescribeTags has no tag-key or
	// tag-value (key and value are those).
	key, ok := strings.CutPrefix(name, "tag:")
	if ok && key == t.Key {
		return []string{t.Value}, true
	}
	return nil, ok
}}
