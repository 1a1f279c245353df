package codecommit

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/service"
)

// maxTriggers is how many triggers a repository may have.
const maxTriggers = 10

// checkTriggers answers AWS's errors for a trigger list CodeCommit
// refuses.
func checkTriggers(triggers api.RepositoryTriggersList) error {
	if len(triggers) > maxTriggers {
		return withMessage(&api.MaximumRepositoryTriggersExceededException{},
			"The number of triggers allowed for the repository was exceeded.")
	}
	names := map[string]bool{}
	for _, t := range triggers {
		name, dest := service.Deref(t.Name), service.Deref(t.DestinationArn)
		switch {
		case name == "":
			return withMessage(&api.RepositoryTriggerNameRequiredException{}, "A name for the trigger is required but was not specified.")
		case names[name]:
			return withMessage(&api.InvalidRepositoryTriggerNameException{}, "The trigger name %s is used more than once.", name)
		case dest == "":
			return withMessage(&api.RepositoryTriggerDestinationArnRequiredException{}, "A destination ARN for the target service for the trigger is required but was not specified.")
		case !isDestinationARN(dest):
			return withMessage(&api.InvalidRepositoryTriggerDestinationArnException{}, "The Amazon Resource Name (ARN) for the trigger is not valid for the specified destination. The most common reason for this error is that the ARN does not meet the requirements for the service type.")
		case len(t.Events) == 0:
			return withMessage(&api.RepositoryTriggerEventsListRequiredException{}, "At least one event for the trigger is required but was not specified.")
		case slices.Contains(t.Events, api.RepositoryTriggerEventEnumAll) && len(t.Events) > 1:
			return withMessage(&api.InvalidRepositoryTriggerEventsException{}, "The event all cannot be combined with other events.")
		}
		names[name] = true
		for _, e := range t.Events {
			if !slices.Contains([]string{api.RepositoryTriggerEventEnumAll, api.RepositoryTriggerEventEnumCreateReference,
				api.RepositoryTriggerEventEnumUpdateReference, api.RepositoryTriggerEventEnumDeleteReference}, e) {
				return withMessage(&api.InvalidRepositoryTriggerEventsException{}, "One or more events specified for the trigger is not valid.")
			}
		}
		for _, b := range t.Branches {
			if err := checkBranchName(b); err != nil {
				return withMessage(&api.InvalidRepositoryTriggerBranchNameException{}, "One or more branch names specified for the trigger is not valid.")
			}
		}
	}
	return nil
}

// isDestinationARN: an SNS topic or a Lambda function.
func isDestinationARN(s string) bool {
	arn, ok := overcast.ParseARN(s)
	return ok && (arn.Service == "sns" || arn.Service == "lambda")
}

func triggersOf(list api.RepositoryTriggersList) []trigger {
	return service.Map(list, func(t api.RepositoryTrigger) trigger {
		return trigger{Name: service.Deref(t.Name), DestinationARN: service.Deref(t.DestinationArn), CustomData: service.Deref(t.CustomData),
			Branches: t.Branches, Events: t.Events}
	})
}

// PutRepositoryTriggers replaces a repository's triggers.
func (s *Service) PutRepositoryTriggers(ctx context.Context, in *api.PutRepositoryTriggersInput) (*api.PutRepositoryTriggersOutput, error) {
	if err := checkTriggers(in.Triggers); err != nil {
		return nil, err
	}
	r, err := s.update(ctx, service.Deref(in.RepositoryName), func(r *repository) error {
		r.Triggers = triggersOf(in.Triggers)
		r.TriggersConfigurationID = s.IDs.UUID()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.PutRepositoryTriggersOutput{ConfigurationId: new(r.TriggersConfigurationID)}, nil
}

// GetRepositoryTriggers returns a repository's triggers.
func (s *Service) GetRepositoryTriggers(ctx context.Context, in *api.GetRepositoryTriggersInput) (*api.GetRepositoryTriggersOutput, error) {
	_, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	out := &api.GetRepositoryTriggersOutput{Triggers: api.RepositoryTriggersList{}, ConfigurationId: service.OmitZero(r.TriggersConfigurationID)}
	for _, t := range r.Triggers {
		out.Triggers = append(out.Triggers, api.RepositoryTrigger{Name: new(t.Name), DestinationArn: new(t.DestinationARN),
			CustomData: service.OmitZero(t.CustomData), Branches: append(api.BranchNameList{}, t.Branches...),
			Events: append(api.RepositoryTriggerEventList{}, t.Events...)})
	}
	return out, nil
}

// TestRepositoryTriggers sends each trigger a test notification.
func (s *Service) TestRepositoryTriggers(ctx context.Context, in *api.TestRepositoryTriggersInput) (*api.TestRepositoryTriggersOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := checkTriggers(in.Triggers); err != nil {
		return nil, err
	}
	out := &api.TestRepositoryTriggersOutput{SuccessfulExecutions: api.RepositoryTriggerNameList{},
		FailedExecutions: api.RepositoryTriggerExecutionFailureList{}}
	for _, t := range triggersOf(in.Triggers) {
		if err := s.notify(ctx, sc, &r, t, nil); err != nil {
			out.FailedExecutions = append(out.FailedExecutions, api.RepositoryTriggerExecutionFailure{Trigger: new(t.Name),
				FailureMessage: new(err.Error())})
			continue
		}
		out.SuccessfulExecutions = append(out.SuccessfulExecutions, t.Name)
	}
	return out, nil
}

// fireTriggers sends the changes each trigger matches to it; a trigger
// that fails is logged, as AWS drops its notification.
func (s *Service) fireTriggers(ctx context.Context, sc scope, r *repository, changes []RefChange) {
	for _, t := range r.Triggers {
		var matched []RefChange
		for _, c := range changes {
			if t.matches(c) {
				matched = append(matched, c)
			}
		}
		if len(matched) == 0 {
			continue
		}
		if err := s.notify(ctx, sc, r, t, matched); err != nil {
			s.Logger.Warn("a repository trigger failed", "repository", r.Name, "trigger", t.Name, "err", err)
		}
	}
}

func (t trigger) matches(c RefChange) bool {
	if !slices.Contains(t.Events, api.RepositoryTriggerEventEnumAll) && !slices.Contains(t.Events, c.event()) {
		return false
	}
	branch, ok := strings.CutPrefix(c.Ref, branchPrefix)
	return len(t.Branches) == 0 || ok && slices.Contains(t.Branches, branch)
}

// notification is what a trigger sends: AWS's "ReferenceChanges" record.
type notification struct {
	Records []notificationRecord `json:"Records"`
}

type notificationRecord struct {
	AWSRegion            string          `json:"awsRegion"`
	CodeCommit           referenceChange `json:"codecommit"`
	CustomData           string          `json:"customData,omitempty"`
	EventID              string          `json:"eventId"`
	EventName            string          `json:"eventName"`
	EventPartNumber      int             `json:"eventPartNumber"`
	EventSource          string          `json:"eventSource"`
	EventSourceARN       string          `json:"eventSourceARN"`
	EventTime            string          `json:"eventTime"`
	EventTotalParts      int             `json:"eventTotalParts"`
	EventTriggerConfigID string          `json:"eventTriggerConfigId"`
	EventTriggerName     string          `json:"eventTriggerName"`
	EventVersion         string          `json:"eventVersion"`
	UserIdentityARN      string          `json:"userIdentityARN"`
}

type referenceChange struct {
	References []reference `json:"references"`
}

type reference struct {
	Commit  string `json:"commit,omitempty"`
	Ref     string `json:"ref"`
	Created bool   `json:"created,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
}

// notify sends t its notification of changes (none: a test).
func (s *Service) notify(ctx context.Context, sc scope, r *repository, t trigger, changes []RefChange) error {
	if !strings.HasPrefix(t.DestinationARN, "arn:aws:sns:") || s.opts.Topics == nil {
		return withMessage(&api.InvalidRepositoryTriggerDestinationArnException{}, "overcast delivers triggers to SNS topics only")
	}
	refs := []reference{}
	for _, c := range changes {
		ref := reference{Commit: c.New, Ref: c.Ref, Created: c.Old == "", Deleted: c.New == ""}
		refs = append(refs, ref)
	}
	msg, _ := json.Marshal(notification{Records: []notificationRecord{{
		AWSRegion: sc.Region, CodeCommit: referenceChange{References: refs}, CustomData: t.CustomData,
		EventID: s.IDs.UUID(), EventName: "ReferenceChanges", EventPartNumber: 1, EventSource: "aws:codecommit",
		EventSourceARN: s.arn(sc, r.Name), EventTime: s.Now().UTC().Format("2006-01-02T15:04:05.000-0700"), EventTotalParts: 1,
		EventTriggerConfigID: r.TriggersConfigurationID, EventTriggerName: t.Name, EventVersion: "1.0",
		UserIdentityARN: overcast.CallerFrom(ctx).ARN,
	}}})
	return s.opts.Topics.Publish(ctx, s.arn(sc, r.Name), t.DestinationARN, "", string(msg))
}
