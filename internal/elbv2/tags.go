package elbv2

import (
	"context"
	"slices"
	"strings"

	api "overcast/internal/api/elbv2"
	"overcast/internal/store"
)

const maxTags = 50

// tagsOf finds the tags of the resource an ARN names (a load balancer,
// target group, listener or rule) in a transaction, for reading or
// changing in place; write stores the change.
func tagsOf(tx store.Tx, sc scope, arn string) (tags *[]tag, write func() error, err error) {
	a := strings.SplitN(arn, ":", 6)
	resource := ""
	if len(a) == 6 {
		resource, _, _ = strings.Cut(a[5], "/")
	}
	switch resource {
	case "targetgroup":
		if err := targetGroupARN.check(arn); err != nil {
			return nil, nil, err
		}
		tg, version, err := getRecord[targetGroup](tx, targetGroupsTable, sc, arn, targetGroupNotFound(arn))
		if err != nil {
			return nil, nil, err
		}
		return &tg.Tags, func() error {
			_, err := store.PutJSON(tx, targetGroupsTable, sc.Key(arn), tg, version)
			return err
		}, nil
	case "loadbalancer", "listener", "listener-rule":
		lbARN, notFound := arn, loadBalancerNotFound(arn)
		kind := loadBalancerARN
		switch resource {
		case "listener":
			lbARN, notFound, kind = parentARN(arn), listenerNotFound(arn), listenerARN
		case "listener-rule":
			lbARN, notFound, kind = parentARN(parentARN(arn)), ruleNotFound(), ruleARN
		}
		if err := kind.check(arn); err != nil {
			return nil, nil, err
		}
		lb, version, err := getRecord[loadBalancer](tx, loadBalancersTable, sc, lbARN, notFound)
		if err != nil {
			return nil, nil, err
		}
		write := func() error {
			_, err := store.PutJSON(tx, loadBalancersTable, sc.Key(lbARN), lb, version)
			return err
		}
		if resource == "loadbalancer" {
			return &lb.Tags, write, nil
		}
		for i := range lb.Listeners {
			l := &lb.Listeners[i]
			if l.ARN == arn {
				return &l.Tags, write, nil
			}
			for j := range l.Rules {
				if l.Rules[j].ARN == arn {
					return &l.Rules[j].Tags, write, nil
				}
			}
		}
		return nil, nil, notFound
	}
	return nil, nil, validation("'%s' is not a valid resource ARN", arn)
}

// AddTags sets tags on resources, replacing the values of keys they have.
func (s *Service) AddTags(ctx context.Context, in *api.AddTagsInput) (*api.AddTagsOutput, error) {
	add, err := tagsFrom(in.Tags)
	if err != nil {
		return nil, err
	}
	return &api.AddTagsOutput{}, s.changeTags(ctx, in.ResourceArns, func(tags *[]tag) error {
		for _, t := range add {
			if i := slices.IndexFunc(*tags, func(o tag) bool { return o.Key == t.Key }); i >= 0 {
				(*tags)[i] = t
				continue
			}
			*tags = append(*tags, t)
		}
		if len(*tags) > maxTags {
			return apiError("TooManyTags", "You've reached the limit on the number of tags for this resource")
		}
		return nil
	})
}

// RemoveTags removes tag keys from resources.
func (s *Service) RemoveTags(ctx context.Context, in *api.RemoveTagsInput) (*api.RemoveTagsOutput, error) {
	return &api.RemoveTagsOutput{}, s.changeTags(ctx, in.ResourceArns, func(tags *[]tag) error {
		*tags = slices.DeleteFunc(*tags, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		return nil
	})
}

func (s *Service) changeTags(ctx context.Context, arns []string, change func(*[]tag) error) error {
	sc := scopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		for _, arn := range arns {
			tags, write, err := tagsOf(tx, sc, arn)
			if err != nil {
				return err
			}
			if err := change(tags); err != nil {
				return err
			}
			if err := write(); err != nil {
				return err
			}
		}
		return nil
	})
}

// DescribeTags returns the tags of resources.
func (s *Service) DescribeTags(ctx context.Context, in *api.DescribeTagsInput) (*api.DescribeTagsOutput, error) {
	sc := scopeOf(ctx)
	out := &api.DescribeTagsOutput{TagDescriptions: api.TagDescriptions{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		for _, arn := range in.ResourceArns {
			tags, _, err := tagsOf(tx, sc, arn)
			if err != nil {
				return err
			}
			out.TagDescriptions = append(out.TagDescriptions, api.TagDescription{ResourceArn: new(arn), Tags: apiTags(*tags)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
