package ecs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// taskDef is the record of one task definition revision: the task
// definition as ECS shows it, and its tags.
type taskDef struct {
	Def  api.TaskDefinition `json:"def"`
	Tags map[string]string  `json:"tags,omitempty"`
}

// family is the record of a task definition family.
type family struct {
	// Last is the last revision registered: the next is Last+1.
	Last int `json:"last"`
}

const (
	tdActive           = "ACTIVE"
	tdInactive         = "INACTIVE"
	tdDeleteInProgress = "DELETE_IN_PROGRESS"
)

func revisionKey(sc scope, family string, rev int) string {
	return sc.Key(fmt.Sprintf("%s:%010d", family, rev))
}

func taskDefARN(sc scope, family string, rev int) string {
	return sc.ARN("ecs", fmt.Sprintf("task-definition/%s:%d", family, rev))
}

// taskDefRef is a task definition as a request names it: "family",
// "family:revision" or its ARN. rev is 0 for a bare family.
type taskDefRef struct {
	family string
	rev    int
}

func parseTaskDefRef(s string) (taskDefRef, bool) {
	s = resourceName(s, "task-definition")
	fam, rev, hasRev := strings.Cut(s, ":")
	if !hasRev {
		return taskDefRef{family: fam}, fam != ""
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n <= 0 {
		return taskDefRef{}, false
	}
	return taskDefRef{family: fam, rev: n}, fam != ""
}

// readTaskDef resolves a reference: a bare family is its latest ACTIVE
// revision. store.ErrNotFound when there is none.
func readTaskDef(tx store.Tx, sc scope, ref taskDefRef) (taskDef, int64, error) {
	var td taskDef
	if ref.rev > 0 {
		v, err := store.GetJSON(tx, taskDefsTable, revisionKey(sc, ref.family, ref.rev), &td)
		return td, v, err
	}
	var version int64
	found := false
	err := store.ScanJSON(tx, taskDefsTable, store.ScanOptions{Prefix: sc.Key(ref.family + ":"), Reverse: true},
		func(_ string, t taskDef, v int64) error {
			if deref(t.Def.Status) != tdActive {
				return nil
			}
			td, version, found = t, v, true
			return store.ErrStop
		})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	return td, version, err
}

func (s *Service) RegisterTaskDefinition(ctx context.Context, in *api.RegisterTaskDefinitionRequest) (*api.RegisterTaskDefinitionResponse, error) {
	def, err := taskDefinitionFrom(in)
	if err != nil {
		return nil, err
	}
	sc := overcast.ScopeOf(ctx)
	def.Compatibilities = compatibilities(def)
	def.RequiresAttributes = requiresAttributes(def)
	def.Status = new(tdActive)
	def.RegisteredAt = new(s.Now().UTC())
	def.RegisteredBy = new(overcast.CallerFrom(ctx).ARN)
	rec := taskDef{Tags: fromTags(in.Tags)}
	err = s.update(ctx, func(tx store.Tx) error {
		var fam family
		v, err := store.GetJSON(tx, familiesTable, sc.Key(*in.Family), &fam)
		if isNotFound(err) {
			v, err = 0, nil
		}
		if err != nil {
			return err
		}
		fam.Last++
		if _, err := store.PutJSON(tx, familiesTable, sc.Key(*in.Family), fam, v); err != nil {
			return err
		}
		rec.Def = *def
		rec.Def.Revision = new(int32(fam.Last))
		rec.Def.TaskDefinitionArn = new(taskDefARN(sc, *in.Family, fam.Last))
		_, err = store.PutJSON(tx, taskDefsTable, revisionKey(sc, *in.Family, fam.Last), rec, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.RegisterTaskDefinitionResponse{TaskDefinition: &rec.Def, Tags: toTags(rec.Tags)}, nil
}

func errNoTaskDefinition() error { return clientError("Unable to describe task definition.") }

func (s *Service) DescribeTaskDefinition(ctx context.Context, in *api.DescribeTaskDefinitionRequest) (*api.DescribeTaskDefinitionResponse, error) {
	ref, ok := parseTaskDefRef(deref(in.TaskDefinition))
	if !ok {
		return nil, errNoTaskDefinition()
	}
	sc := overcast.ScopeOf(ctx)
	var td taskDef
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		td, _, err = readTaskDef(tx, sc, ref)
		return err
	})
	if isNotFound(err) {
		return nil, errNoTaskDefinition()
	}
	if err != nil {
		return nil, err
	}
	out := &api.DescribeTaskDefinitionResponse{TaskDefinition: &td.Def}
	if slices.Contains(in.Include, "TAGS") {
		out.Tags = toTags(td.Tags)
	}
	return out, nil
}

func (s *Service) ListTaskDefinitions(ctx context.Context, in *api.ListTaskDefinitionsRequest) (*api.ListTaskDefinitionsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	status := cmp.Or(deref(in.Status), tdActive)
	out := &api.ListTaskDefinitionsResponse{}
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		out.TaskDefinitionArns, out.NextToken, err = listARNs(tx, taskDefsTable, sc.Key(deref(in.FamilyPrefix)), in.NextToken,
			in.MaxResults, deref(in.Sort) == "DESC",
			func(t taskDef) bool { return deref(t.Def.Status) == status },
			func(t taskDef) string { return deref(t.Def.TaskDefinitionArn) })
		return err
	})
	return out, err
}

func (s *Service) ListTaskDefinitionFamilies(ctx context.Context, in *api.ListTaskDefinitionFamiliesRequest) (*api.ListTaskDefinitionFamiliesResponse, error) {
	sc := overcast.ScopeOf(ctx)
	status := cmp.Or(deref(in.Status), tdActive)
	after, err := awsproto.PageAfter(in.NextToken, invalidParameter("Invalid nextToken."))
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.MaxResults)
	out := &api.ListTaskDefinitionFamiliesResponse{Families: api.StringList{}}
	err = s.Store.View(ctx, func(tx store.Tx) error {
		// A family is ACTIVE while it has an ACTIVE revision, INACTIVE
		// when it has revisions and none is ACTIVE.
		families := map[string]bool{}
		var order []string
		opt := store.ScanOptions{Prefix: sc.Key(deref(in.FamilyPrefix))}
		err := store.ScanJSON(tx, taskDefsTable, opt, func(_ string, t taskDef, _ int64) error {
			name := deref(t.Def.Family)
			if _, seen := families[name]; !seen {
				order = append(order, name)
			}
			families[name] = families[name] || deref(t.Def.Status) == tdActive
			return nil
		})
		if err != nil {
			return err
		}
		for _, name := range order {
			active := families[name]
			if name <= after || (status == tdActive && !active) || (status == tdInactive && active) {
				continue
			}
			if len(out.Families) == limit {
				out.NextToken = awsproto.PageToken(out.Families[limit-1])
				break
			}
			out.Families = append(out.Families, name)
		}
		return nil
	})
	return out, err
}

func (s *Service) DeregisterTaskDefinition(ctx context.Context, in *api.DeregisterTaskDefinitionRequest) (*api.DeregisterTaskDefinitionResponse, error) {
	ref, ok := parseTaskDefRef(deref(in.TaskDefinition))
	if !ok || ref.rev == 0 {
		return nil, clientError("Invalid revision number. Number: %s", revisionText(deref(in.TaskDefinition)))
	}
	sc := overcast.ScopeOf(ctx)
	var td taskDef
	err := s.update(ctx, func(tx store.Tx) error {
		var v int64
		var err error
		td, v, err = readTaskDef(tx, sc, ref)
		if isNotFound(err) {
			return clientError("The specified task definition does not exist.")
		}
		if err != nil || deref(td.Def.Status) != tdActive {
			return err
		}
		td.Def.Status = new(tdInactive)
		td.Def.DeregisteredAt = new(s.Now().UTC())
		_, err = store.PutJSON(tx, taskDefsTable, revisionKey(sc, ref.family, ref.rev), td, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DeregisterTaskDefinitionResponse{TaskDefinition: &td.Def}, nil
}

func revisionText(ref string) string {
	_, rev, _ := strings.Cut(resourceName(ref, "task-definition"), ":")
	return rev
}

// DeleteTaskDefinitions marks INACTIVE revisions DELETE_IN_PROGRESS: ECS
// deletes them once no task or service uses them, which is the task
// controller's to decide.
func (s *Service) DeleteTaskDefinitions(ctx context.Context, in *api.DeleteTaskDefinitionsRequest) (*api.DeleteTaskDefinitionsResponse, error) {
	if len(in.TaskDefinitions) > 10 {
		return nil, invalidParameter("The number of task definitions cannot exceed 10.")
	}
	sc := overcast.ScopeOf(ctx)
	out := &api.DeleteTaskDefinitionsResponse{TaskDefinitions: api.TaskDefinitionList{}, Failures: api.Failures{}}
	err := s.update(ctx, func(tx store.Tx) error {
		out.TaskDefinitions, out.Failures = out.TaskDefinitions[:0], out.Failures[:0]
		for _, name := range in.TaskDefinitions {
			fail := func(reason string) {
				out.Failures = append(out.Failures, api.Failure{Arn: new(name), Reason: new(reason)})
			}
			ref, ok := parseTaskDefRef(name)
			if !ok || ref.rev == 0 {
				fail("The specified task definition identifier is invalid. Specify a valid name or ARN and try again.")
				continue
			}
			td, v, err := readTaskDef(tx, sc, ref)
			if isNotFound(err) {
				fail("The specified task definition does not exist. Specify a valid account, family, revision and try again.")
				continue
			}
			if err != nil {
				return err
			}
			switch deref(td.Def.Status) {
			case tdActive:
				fail("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")
				continue
			case tdInactive:
				td.Def.Status = new(tdDeleteInProgress)
				td.Def.DeleteRequestedAt = new(s.Now().UTC())
				if _, err := store.PutJSON(tx, taskDefsTable, revisionKey(sc, ref.family, ref.rev), td, v); err != nil {
					return err
				}
			}
			out.TaskDefinitions = append(out.TaskDefinitions, td.Def)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
