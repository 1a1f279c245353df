package codecommit

import (
	"context"
	"encoding/json"
	"strings"

	"overcast"
	"overcast/internal/bus"
	"overcast/internal/git"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Events CodeCommit publishes on the bus, as EventBridge sees them.
const (
	EventSource          = "aws.codecommit"
	StateChangeEventType = "CodeCommit Repository State Change"
)

// RefChange is a reference a push or an API call created, moved or
// deleted: Old is "" for a created reference, New "" for a deleted one.
type RefChange struct {
	Ref, Old, New string
}

// event is the CodeCommit trigger event name of the change.
func (c RefChange) event() string {
	switch {
	case c.Old == "":
		return "createReference"
	case c.New == "":
		return "deleteReference"
	}
	return "updateReference"
}

// stateChangeDetail is the detail of a "CodeCommit Repository State
// Change" event.
type stateChangeDetail struct {
	CallerUserArn     string `json:"callerUserArn,omitempty"`
	CommitID          string `json:"commitId,omitempty"`
	Event             string `json:"event"`
	OldCommitID       string `json:"oldCommitId,omitempty"`
	ReferenceFullName string `json:"referenceFullName"`
	ReferenceName     string `json:"referenceName"`
	ReferenceType     string `json:"referenceType"`
	RepositoryID      string `json:"repositoryId"`
	RepositoryName    string `json:"repositoryName"`
}

// RecordPush records what a push to the repository called name did: the
// repository was modified, its first branch becomes its default, and each
// change is published on the bus and sent to the triggers it matches.
func (s *Service) RecordPush(ctx context.Context, account, region, name string, changes []RefChange) error {
	// git's own "no object" is the same as none.
	changes = service.Map(changes, func(c RefChange) RefChange {
		if c.Old == git.ZeroID {
			c.Old = ""
		}
		if c.New == git.ZeroID {
			c.New = ""
		}
		return c
	})
	return s.recordChanges(ctx, overcast.Scope{Account: account, Region: region}, name, changes)
}

func (s *Service) recordChanges(ctx context.Context, sc scope, name string, changes []RefChange) error {
	if len(changes) == 0 {
		return nil
	}
	caller := overcast.CallerFrom(ctx).ARN
	var r repository
	var newDefault bool
	err := s.updateAndNotify(ctx, func(tx store.Tx) error {
		var err error
		r, err = rewriteRepository(tx, sc, name, func(r *repository) error {
			r.Modified = s.Now()
			newDefault = false
			if r.DefaultBranch == "" {
				for _, c := range changes {
					if branch, ok := strings.CutPrefix(c.Ref, branchPrefix); ok && c.New != "" {
						r.DefaultBranch, newDefault = branch, true
						break
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		events := make([]bus.Event, 0, len(changes))
		for _, c := range changes {
			events = append(events, s.stateChangeEvent(sc, &r, c, caller))
		}
		return s.Bus.Publish(ctx, tx, events...)
	})
	if err != nil {
		return err
	}
	if newDefault {
		if err := s.repo(sc, &r).SetHead(ctx, r.DefaultBranch); err != nil {
			return err
		}
	}
	s.fireTriggers(ctx, sc, &r, changes)
	s.branchesMoved(ctx, sc, r.Name, changes)
	return nil
}

func (s *Service) stateChangeEvent(sc scope, r *repository, c RefChange, caller string) bus.Event {
	d := stateChangeDetail{CallerUserArn: caller, CommitID: c.New, ReferenceFullName: c.Ref, RepositoryID: r.ID, RepositoryName: r.Name}
	switch c.event() {
	case "createReference":
		d.Event = "referenceCreated"
	case "deleteReference":
		d.Event, d.OldCommitID = "referenceDeleted", c.Old
	default:
		d.Event, d.OldCommitID = "referenceUpdated", c.Old
	}
	d.ReferenceType, d.ReferenceName = "branch", strings.TrimPrefix(c.Ref, branchPrefix)
	if tag, ok := strings.CutPrefix(c.Ref, "refs/tags/"); ok {
		d.ReferenceType, d.ReferenceName = "tag", tag
	} else if !strings.HasPrefix(c.Ref, branchPrefix) {
		d.ReferenceType, d.ReferenceName = "reference", c.Ref
	}
	if c.New == "" {
		// A deleted reference's event names the commit it pointed at.
		d.CommitID = c.Old
	}
	detail, _ := json.Marshal(d)
	return bus.Event{Source: EventSource, Type: StateChangeEventType, Time: s.Now(), Account: sc.Account, Region: sc.Region,
		Resources: []string{s.arn(sc, r.Name)}, Detail: detail}
}
