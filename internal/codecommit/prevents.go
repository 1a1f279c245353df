package codecommit

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"overcast"
	"overcast/internal/bus"
	"overcast/internal/store"
)

// Pull request events CodeCommit publishes on the bus, as EventBridge sees them.
const (
	PullRequestEventType = "CodeCommit Pull Request State Change"
	CommentEventType     = "CodeCommit Comment on Pull Request"
)

// busEventNames are the detail "event" values of the pull request events AWS publishes.
var busEventNames = map[string]string{
	eventCreated:            "pullRequestCreated",
	eventStatusChanged:      "pullRequestStatusChanged",
	eventSourceUpdated:      "pullRequestSourceBranchUpdated",
	eventMergeStateChanged:  "pullRequestMergeStatusUpdated",
	eventRuleCreated:        "pullRequestApprovalRuleCreated",
	eventRuleUpdated:        "pullRequestApprovalRuleUpdated",
	eventRuleDeleted:        "pullRequestApprovalRuleDeleted",
	eventRuleOverridden:     "pullRequestApprovalRuleOverridden",
	eventApprovalStateChang: "pullRequestApprovalStateChanged",
}

// pullRequestDetail is the detail of a "CodeCommit Pull Request State Change" event.
type pullRequestDetail struct {
	Author               string   `json:"author"`
	CallerUserArn        string   `json:"callerUserArn"`
	CreationDate         string   `json:"creationDate"`
	Description          string   `json:"description,omitempty"`
	DestinationCommit    string   `json:"destinationCommit"`
	DestinationReference string   `json:"destinationReference"`
	Event                string   `json:"event"`
	IsMerged             string   `json:"isMerged"`
	LastModifiedDate     string   `json:"lastModifiedDate"`
	MergeOption          string   `json:"mergeOption,omitempty"`
	NotificationBody     string   `json:"notificationBody"`
	PullRequestID        string   `json:"pullRequestId"`
	PullRequestStatus    string   `json:"pullRequestStatus"`
	RepositoryNames      []string `json:"repositoryNames"`
	RevisionID           string   `json:"revisionId"`
	SourceCommit         string   `json:"sourceCommit"`
	SourceReference      string   `json:"sourceReference"`
	Title                string   `json:"title"`
}

// commentDetail is the detail of a "CodeCommit Comment on Pull Request" event.
type commentDetail struct {
	AfterCommitID    string `json:"afterCommitId"`
	BeforeCommitID   string `json:"beforeCommitId,omitempty"`
	CallerUserArn    string `json:"callerUserArn"`
	CommentID        string `json:"commentId"`
	Event            string `json:"event"`
	InReplyTo        string `json:"inReplyTo,omitempty"`
	NotificationBody string `json:"notificationBody"`
	PullRequestID    string `json:"pullRequestId"`
	RepositoryName   string `json:"repositoryName"`
}

// publishPullRequestEvents publishes the events pr gained since it had seen of them, in tx.
func (s *Service) publishPullRequestEvents(ctx context.Context, tx store.Tx, sc scope, pr *pullRequest, seen int) error {
	var evs []bus.Event
	t := pr.Targets[0]
	for _, ev := range pr.Events[seen:] {
		typ := *ev.PullRequestEventType
		d := pullRequestDetail{Author: pr.Author, CallerUserArn: *ev.ActorArn, CreationDate: pr.Created.UTC().Format(eventTime),
			Description: pr.Description, DestinationCommit: t.DestinationCommit, DestinationReference: t.DestinationRef,
			Event: busEventNames[typ], IsMerged: capitalized(strconv.FormatBool(t.Merged)),
			LastModifiedDate: pr.LastActivity.UTC().Format(eventTime), MergeOption: t.MergeOption, PullRequestID: pr.ID,
			PullRequestStatus: capitalized(pr.Status),
			RepositoryNames:   []string{t.Repository}, RevisionID: pr.RevisionID, SourceCommit: t.SourceCommit,
			SourceReference: t.SourceRef, Title: pr.Title}
		d.NotificationBody = "A pull request event occurred in the following AWS CodeCommit repository: " + t.Repository +
			". User: " + d.CallerUserArn + ". Event: " + typ + ". Pull request name: " + pr.ID + "."
		detail, err := json.Marshal(d)
		if err != nil {
			return err
		}
		evs = append(evs, bus.Event{Source: EventSource, Type: PullRequestEventType, Time: *ev.EventDate, Account: sc.Account,
			Region: sc.Region, Resources: []string{s.arn(sc, t.Repository)}, Detail: detail})
	}
	if len(evs) == 0 {
		return nil
	}
	return s.Bus.Publish(ctx, tx, evs...)
}

// eventTime is how the events' detail writes dates.
const eventTime = "2006-01-02T15:04:05Z"

// capitalized is an ASCII word as the events write it: "Open", "True".
func capitalized(word string) string {
	if word == "" {
		return word
	}
	return strings.ToUpper(word[:1]) + strings.ToLower(word[1:])
}

// publishCommentEvent publishes a comment's creation or update on a pull request, in tx.
func (s *Service) publishCommentEvent(ctx context.Context, tx store.Tx, sc scope, c *comment, created bool) error {
	if c.PullRequest == "" {
		return nil
	}
	d := commentDetail{AfterCommitID: c.AfterCommit, BeforeCommitID: c.BeforeCommit, CallerUserArn: overcast.CallerFrom(ctx).ARN,
		CommentID: c.ID, Event: "commentOnPullRequestUpdated", InReplyTo: c.InReplyTo, PullRequestID: c.PullRequest, RepositoryName: c.Repository}
	if created {
		d.Event = "commentOnPullRequestCreated"
	}
	d.NotificationBody = "A comment event occurred in the following AWS CodeCommit repository: " + c.Repository +
		". User: " + d.CallerUserArn + ". Event: " + d.Event + ". Pull request name: " + c.PullRequest + "."
	detail, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.Bus.Publish(ctx, tx, bus.Event{Source: EventSource, Type: CommentEventType, Time: c.Modified, Account: sc.Account,
		Region: sc.Region, Resources: []string{s.arn(sc, c.Repository)}, Detail: detail})
}
