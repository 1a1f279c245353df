package codecommit

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/git"
	"overcast/internal/service"
	"overcast/internal/store"
)

const (
	// commentsTable holds comments, keyed by scope and comment ID.
	commentsTable = "codecommit.comments"
	// commentTokensTable maps a comment's clientRequestToken to its ID.
	commentTokensTable = "codecommit.commentTokens"
)

// maxCommentLength is AWS's limit on a comment's content, in bytes.
const maxCommentLength = 10240

// comment is a comment as stored: on a pull request, on two compared commits, or a reply.
type comment struct {
	ID                 string            `json:"id"`
	Content            string            `json:"content"`
	InReplyTo          string            `json:"inReplyTo,omitempty"`
	Created            time.Time         `json:"created"`
	Modified           time.Time         `json:"modified"`
	Author             string            `json:"author"`
	Deleted            bool              `json:"deleted,omitempty"`
	ClientRequestToken string            `json:"clientRequestToken,omitempty"`
	Reactions          map[string]string `json:"reactions,omitempty"` // user ARN → reaction emoji
	thread
}

// thread is where a comment sits; replies share their parent's.
type thread struct {
	Repository   string        `json:"repository"`
	PullRequest  string        `json:"pullRequest,omitempty"`
	BeforeCommit string        `json:"beforeCommit,omitempty"`
	AfterCommit  string        `json:"afterCommit"`
	BeforeBlob   string        `json:"beforeBlob,omitempty"`
	AfterBlob    string        `json:"afterBlob,omitempty"`
	Location     *fileLocation `json:"location,omitempty"`
}

// threadKey identifies a thread by value (a thread's location is a pointer).
type threadKey struct {
	thread
	location fileLocation
}

func (t thread) key() threadKey {
	k := threadKey{thread: t}
	if t.Location != nil {
		k.location, k.Location = *t.Location, nil
	}
	return k
}

type fileLocation struct {
	Path     string `json:"path"`
	Position int64  `json:"position"`
	Version  string `json:"version"` // BEFORE or AFTER
}

func (l *fileLocation) api() *api.Location {
	if l == nil {
		return nil
	}
	return &api.Location{FilePath: new(l.Path), FilePosition: new(l.Position), RelativeFileVersion: new(l.Version)}
}

func (c *comment) api(caller string) *api.Comment {
	out := &api.Comment{CommentId: new(c.ID), Content: new(c.Content), InReplyTo: service.OmitZero(c.InReplyTo),
		CreationDate: new(c.Created), LastModifiedDate: new(c.Modified), AuthorArn: new(c.Author), Deleted: new(c.Deleted),
		ClientRequestToken: service.OmitZero(c.ClientRequestToken), CallerReactions: api.CallerReactions{}, ReactionCounts: api.ReactionCountsMap{}}
	for user, emoji := range c.Reactions {
		out.ReactionCounts[emoji]++
		if user == caller {
			out.CallerReactions = append(out.CallerReactions, emoji)
		}
	}
	return out
}

func checkCommentContent(content string) error {
	if content == "" {
		return withMessage(&api.CommentContentRequiredException{}, "The comment is empty. You must provide some content for a comment. The content cannot be null.")
	}
	if len(content) > maxCommentLength {
		return withMessage(&api.CommentContentSizeLimitExceededException{}, "The comment is too large. Comments are limited to %d characters.", maxCommentLength)
	}
	return nil
}

func commentDoesNotExist(id string) error {
	return withMessage(&api.CommentDoesNotExistException{}, "No comment exists with the provided ID. Verify that you have used the correct ID, and then try again.")
}

func getComment(tx store.Tx, sc scope, id string) (comment, int64, error) {
	if id == "" {
		return comment{}, 0, withMessage(&api.CommentIdRequiredException{}, "The comment ID is missing or null. A comment ID is required.")
	}
	return getItem[comment](tx, commentsTable, sc.Key(id), func() error { return commentDoesNotExist(id) })
}

// readComment reads the comment a request names.
func (s *Service) readComment(ctx context.Context, id *string) (comment, error) {
	sc := overcast.ScopeOf(ctx)
	return viewItem(ctx, s.Store, func(tx store.Tx) (comment, int64, error) { return getComment(tx, sc, service.Deref(id)) })
}

// placeComment works out a new comment's thread in a repository: the commits it compares and,
// for a comment on a file, the file's blobs.
func placeComment(ctx context.Context, repo *git.Repo, repository string, before, after *string, loc *api.Location) (thread, error) {
	th := thread{Repository: repository}
	var err error
	if service.Deref(after) == "" {
		return th, withMessage(&api.CommitIdRequiredException{}, "A commit ID was not specified.")
	}
	if th.AfterCommit, err = commitID(ctx, repo, *after); err != nil {
		return th, err
	}
	if service.Deref(before) != "" {
		if th.BeforeCommit, err = commitID(ctx, repo, *before); err != nil {
			return th, err
		}
		if th.BeforeCommit == th.AfterCommit {
			return th, withMessage(&api.BeforeCommitIdAndAfterCommitIdAreSameException{}, "The before commit ID and the after commit ID are the same, which is not valid. The before commit ID and the after commit ID must be different commit IDs.")
		}
	}
	if loc == nil {
		return th, nil
	}
	l := &fileLocation{Path: strings.Trim(service.Deref(loc.FilePath), "/"), Position: service.Deref(loc.FilePosition),
		Version: service.DerefOr(loc.RelativeFileVersion, "AFTER")}
	if l.Path == "" {
		return th, withMessage(&api.PathRequiredException{}, "The folderPath for a location cannot be null.")
	}
	if l.Position < 0 {
		return th, withMessage(&api.InvalidFilePositionException{}, "The position is not valid. Make sure that the line number exists in the version of the file you want to comment on.")
	}
	th.Location = l
	for _, side := range []struct {
		commit string
		blob   *string
	}{{th.BeforeCommit, &th.BeforeBlob}, {th.AfterCommit, &th.AfterBlob}} {
		if side.commit == "" {
			continue
		}
		if e, err := repo.Entry(ctx, side.commit, l.Path); err == nil && e.Type == "blob" {
			*side.blob = e.ID
		}
	}
	commit, blob := th.AfterCommit, th.AfterBlob
	if l.Version == "BEFORE" {
		commit, blob = th.BeforeCommit, th.BeforeBlob
	}
	if commit == "" || blob == "" {
		return th, withMessage(&api.PathDoesNotExistException{}, "The specified path does not exist: %s", l.Path)
	}
	return th, nil
}

// commitID resolves a full commit ID a comment names.
func commitID(ctx context.Context, repo *git.Repo, id string) (string, error) {
	c, err := repo.ResolveCommit(ctx, id)
	if errors.Is(err, git.ErrNotFound) {
		return "", withMessage(&api.CommitDoesNotExistException{}, "The specified commit does not exist or no commit was specified: %s", id)
	}
	return c, err
}

// postComment stores a new comment, or returns the one its token already made.
func (s *Service) postComment(ctx context.Context, content, token string, th thread, inReplyTo string) (comment, error) {
	if err := checkCommentContent(content); err != nil {
		return comment{}, err
	}
	sc := overcast.ScopeOf(ctx)
	caller := overcast.CallerFrom(ctx).ARN
	var c comment
	err := s.updateAndNotify(ctx, func(tx store.Tx) error {
		if inReplyTo != "" {
			parent, _, err := getComment(tx, sc, inReplyTo)
			if err != nil {
				return err
			}
			th = parent.thread
		}
		if token != "" {
			var existing string
			if _, err := store.GetJSON(tx, commentTokensTable, sc.Key(token), &existing); err == nil {
				if c, _, err = getComment(tx, sc, existing); err != nil {
					return err
				}
				if c.Content != content || c.InReplyTo != inReplyTo || c.Author != caller {
					return withMessage(&api.IdempotencyParameterMismatchException{}, "The client request token is not valid. Either the token is not in a valid format, or the token has been used in a previous request and cannot be reused.")
				}
				return nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		now := s.Now()
		c = comment{ID: s.IDs.UUID(), Content: content, InReplyTo: inReplyTo, Created: now, Modified: now, Author: caller,
			ClientRequestToken: token, thread: th}
		if token != "" {
			if _, err := store.PutJSON(tx, commentTokensTable, sc.Key(token), c.ID, 0); err != nil {
				return err
			}
		}
		return s.putComment(ctx, tx, sc, &c, 0)
	})
	return c, err
}

// putComment writes a comment at version ver (0 for a new one) and publishes
// its creation or change, in tx.
func (s *Service) putComment(ctx context.Context, tx store.Tx, sc scope, c *comment, ver int64) error {
	if _, err := store.PutJSON(tx, commentsTable, sc.Key(c.ID), c, ver); err != nil {
		return err
	}
	return s.publishCommentEvent(ctx, tx, sc, c, ver == 0)
}

// PostCommentForPullRequest comments on a pull request, or on a line of a file it changes.
func (s *Service) PostCommentForPullRequest(ctx context.Context, in *api.PostCommentForPullRequestInput) (*api.PostCommentForPullRequestOutput, error) {
	_, pr, err := s.loadPullRequest(ctx, in.PullRequestId)
	if err != nil {
		return nil, err
	}
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if r.Name != pr.Targets[0].Repository {
		return nil, withMessage(&api.RepositoryNotAssociatedWithPullRequestException{}, "The repository %s is not associated with the pull request %s.", r.Name, pr.ID)
	}
	th, err := placeComment(ctx, s.repo(sc, &r), r.Name, in.BeforeCommitId, in.AfterCommitId, in.Location)
	if err != nil {
		return nil, err
	}
	th.PullRequest = pr.ID
	c, err := s.postComment(ctx, service.Deref(in.Content), service.Deref(in.ClientRequestToken), th, "")
	if err != nil {
		return nil, err
	}
	return &api.PostCommentForPullRequestOutput{RepositoryName: new(r.Name), PullRequestId: new(pr.ID),
		BeforeCommitId: service.OmitZero(c.BeforeCommit), AfterCommitId: new(c.AfterCommit), BeforeBlobId: service.OmitZero(c.BeforeBlob),
		AfterBlobId: service.OmitZero(c.AfterBlob), Location: c.Location.api(), Comment: c.api(c.Author)}, nil
}

// PostCommentForComparedCommit comments on the comparison of two commits.
func (s *Service) PostCommentForComparedCommit(ctx context.Context, in *api.PostCommentForComparedCommitInput) (*api.PostCommentForComparedCommitOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	th, err := placeComment(ctx, s.repo(sc, &r), r.Name, in.BeforeCommitId, in.AfterCommitId, in.Location)
	if err != nil {
		return nil, err
	}
	c, err := s.postComment(ctx, service.Deref(in.Content), service.Deref(in.ClientRequestToken), th, "")
	if err != nil {
		return nil, err
	}
	return &api.PostCommentForComparedCommitOutput{RepositoryName: new(r.Name),
		BeforeCommitId: service.OmitZero(c.BeforeCommit), AfterCommitId: new(c.AfterCommit), BeforeBlobId: service.OmitZero(c.BeforeBlob),
		AfterBlobId: service.OmitZero(c.AfterBlob), Location: c.Location.api(), Comment: c.api(c.Author)}, nil
}

// PostCommentReply replies to a comment, in its thread.
func (s *Service) PostCommentReply(ctx context.Context, in *api.PostCommentReplyInput) (*api.PostCommentReplyOutput, error) {
	c, err := s.postComment(ctx, service.Deref(in.Content), service.Deref(in.ClientRequestToken), thread{}, service.Deref(in.InReplyTo))
	if err != nil {
		return nil, err
	}
	return &api.PostCommentReplyOutput{Comment: c.api(c.Author)}, nil
}

// GetComment returns a comment.
func (s *Service) GetComment(ctx context.Context, in *api.GetCommentInput) (*api.GetCommentOutput, error) {
	c, err := s.readComment(ctx, in.CommentId)
	if err != nil {
		return nil, err
	}
	return &api.GetCommentOutput{Comment: c.api(overcast.CallerFrom(ctx).ARN)}, nil
}

// updateComment applies change to a comment that is not deleted.
func (s *Service) updateComment(ctx context.Context, id *string, change func(*comment) error) (comment, error) {
	sc := overcast.ScopeOf(ctx)
	var c comment
	err := s.updateAndNotify(ctx, func(tx store.Tx) error {
		var ver int64
		var err error
		if c, ver, err = getComment(tx, sc, service.Deref(id)); err != nil {
			return err
		}
		if c.Deleted {
			return withMessage(&api.CommentDeletedException{}, "This comment has already been deleted. You cannot edit or delete a deleted comment.")
		}
		if err := change(&c); err != nil {
			return err
		}
		return s.putComment(ctx, tx, sc, &c, ver)
	})
	return c, err
}

// UpdateComment replaces the content of the caller's comment.
func (s *Service) UpdateComment(ctx context.Context, in *api.UpdateCommentInput) (*api.UpdateCommentOutput, error) {
	content := service.Deref(in.Content)
	if err := checkCommentContent(content); err != nil {
		return nil, err
	}
	caller := overcast.CallerFrom(ctx).ARN
	c, err := s.updateComment(ctx, in.CommentId, func(c *comment) error {
		if c.Author != caller {
			return withMessage(&api.CommentNotCreatedByCallerException{}, "You cannot modify or delete this comment. Only comment authors can modify or delete their comments.")
		}
		c.Content, c.Modified = content, s.Now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateCommentOutput{Comment: c.api(caller)}, nil
}

// DeleteCommentContent blanks a comment, leaving it in its thread.
func (s *Service) DeleteCommentContent(ctx context.Context, in *api.DeleteCommentContentInput) (*api.DeleteCommentContentOutput, error) {
	c, err := s.updateComment(ctx, in.CommentId, func(c *comment) error {
		c.Content, c.Deleted, c.Modified = "", true, s.Now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteCommentContentOutput{Comment: c.api(overcast.CallerFrom(ctx).ARN)}, nil
}

// commentThread is a page's thread: where its comments are, and the comments, oldest first.
type commentThread struct {
	thread
	comments api.Comments
}

// commentThreads returns a page of the threads of the comments keep accepts, oldest first.
func (s *Service) commentThreads(ctx context.Context, token *string, maxResults *int32, keep func(comment) bool) ([]commentThread, *string, error) {
	from, size, err := pageArgs(maxResults, token, maxPageSize)
	if err != nil {
		return nil, nil, err
	}
	sc := overcast.ScopeOf(ctx)
	var all []comment
	err = s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		all, err = store.FilterJSON(tx, commentsTable, store.ScanOptions{Prefix: sc.Prefix()}, keep)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Created.Before(all[j].Created) })
	var order []threadKey
	byThread := map[threadKey][]comment{}
	for _, c := range all {
		key := c.thread.key()
		if _, ok := byThread[key]; !ok {
			order = append(order, key)
		}
		byThread[key] = append(byThread[key], c)
	}
	order, next, err := pageOf(order, from, size)
	if err != nil {
		return nil, nil, err
	}
	caller := overcast.CallerFrom(ctx).ARN
	threads := service.Map(order, func(k threadKey) commentThread {
		cs := byThread[k]
		return commentThread{thread: cs[0].thread, comments: commentsAPI(cs, caller)}
	})
	return threads, next, nil
}

// GetCommentsForPullRequest returns a pull request's comments, by thread.
func (s *Service) GetCommentsForPullRequest(ctx context.Context, in *api.GetCommentsForPullRequestInput) (*api.GetCommentsForPullRequestOutput, error) {
	_, pr, err := s.loadPullRequest(ctx, in.PullRequestId)
	if err != nil {
		return nil, err
	}
	if in.RepositoryName != nil && *in.RepositoryName != pr.Targets[0].Repository {
		if _, _, err := s.lookup(ctx, in.RepositoryName); err != nil {
			return nil, err
		}
		return nil, withMessage(&api.RepositoryNotAssociatedWithPullRequestException{}, "The repository %s is not associated with the pull request %s.", *in.RepositoryName, pr.ID)
	}
	before, after := service.Deref(in.BeforeCommitId), service.Deref(in.AfterCommitId)
	threads, next, err := s.commentThreads(ctx, in.NextToken, in.MaxResults, func(c comment) bool {
		return c.PullRequest == pr.ID && (before == "" || c.BeforeCommit == before) && (after == "" || c.AfterCommit == after)
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetCommentsForPullRequestOutput{CommentsForPullRequestData: api.CommentsForPullRequestData{}, NextToken: next}
	for _, th := range threads {
		out.CommentsForPullRequestData = append(out.CommentsForPullRequestData, api.CommentsForPullRequest{
			PullRequestId: new(pr.ID), RepositoryName: new(th.Repository), BeforeCommitId: service.OmitZero(th.BeforeCommit),
			AfterCommitId: new(th.AfterCommit), BeforeBlobId: service.OmitZero(th.BeforeBlob), AfterBlobId: service.OmitZero(th.AfterBlob),
			Location: th.Location.api(), Comments: th.comments})
	}
	return out, nil
}

// GetCommentsForComparedCommit returns the comments on a comparison of two commits, by thread.
func (s *Service) GetCommentsForComparedCommit(ctx context.Context, in *api.GetCommentsForComparedCommitInput) (*api.GetCommentsForComparedCommitOutput, error) {
	_, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	before, after := service.Deref(in.BeforeCommitId), service.Deref(in.AfterCommitId)
	threads, next, err := s.commentThreads(ctx, in.NextToken, in.MaxResults, func(c comment) bool {
		return c.PullRequest == "" && c.Repository == r.Name && c.AfterCommit == after && (before == "" || c.BeforeCommit == before)
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetCommentsForComparedCommitOutput{CommentsForComparedCommitData: api.CommentsForComparedCommitData{}, NextToken: next}
	for _, th := range threads {
		out.CommentsForComparedCommitData = append(out.CommentsForComparedCommitData, api.CommentsForComparedCommit{
			RepositoryName: new(th.Repository), BeforeCommitId: service.OmitZero(th.BeforeCommit), AfterCommitId: new(th.AfterCommit),
			BeforeBlobId: service.OmitZero(th.BeforeBlob), AfterBlobId: service.OmitZero(th.AfterBlob),
			Location: th.Location.api(), Comments: th.comments})
	}
	return out, nil
}

func commentsAPI(cs []comment, caller string) api.Comments {
	return service.Map(cs, func(c comment) api.Comment { return *c.api(caller) })
}

// reactions are the reactions a comment takes: short code → emoji and its code point.
var reactions = map[string][2]string{
	":thumbsup:":   {"👍", "U+1F44D"},
	":thumbsdown:": {"👎", "U+1F44E"},
	":smile:":      {"😄", "U+1F604"},
	":heart:":      {"❤️", "U+2764"},
	":angry:":      {"😠", "U+1F620"},
	":confused:":   {"😕", "U+1F615"},
	":tada:":       {"🎉", "U+1F389"},
	":rocket:":     {"🚀", "U+1F680"},
	":eyes:":       {"👀", "U+1F440"},
	":laughing:":   {"😆", "U+1F606"},
}

// reactionEmoji reads a reaction given as an emoji, a short code or a code point.
func reactionEmoji(value string) (string, bool) {
	for code, r := range reactions {
		if value == code || value == r[0] || strings.EqualFold(value, r[1]) {
			return r[0], true
		}
	}
	return "", false
}

// PutCommentReaction sets (or replaces) the caller's reaction to a comment.
func (s *Service) PutCommentReaction(ctx context.Context, in *api.PutCommentReactionInput) error {
	value := service.Deref(in.ReactionValue)
	if value == "" {
		return withMessage(&api.ReactionValueRequiredException{}, "A reaction value is required.")
	}
	emoji, ok := reactionEmoji(value)
	if !ok {
		return withMessage(&api.InvalidReactionValueException{}, "The value of the reaction is not valid: %s", value)
	}
	caller := overcast.CallerFrom(ctx).ARN
	_, err := s.updateComment(ctx, in.CommentId, func(c *comment) error {
		if c.Reactions == nil {
			c.Reactions = map[string]string{}
		}
		c.Reactions[caller] = emoji
		return nil
	})
	return err
}

// GetCommentReactions lists the reactions to a comment and who gave them.
func (s *Service) GetCommentReactions(ctx context.Context, in *api.GetCommentReactionsInput) (*api.GetCommentReactionsOutput, error) {
	c, err := s.readComment(ctx, in.CommentId)
	if err != nil {
		return nil, err
	}
	from, size, err := pageArgs(in.MaxResults, in.NextToken, maxPageSize)
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for user, emoji := range c.Reactions {
		if in.ReactionUserArn == nil || *in.ReactionUserArn == user {
			users[emoji] = append(users[emoji], user)
		}
	}
	var out api.ReactionsForCommentList
	for code, r := range reactions {
		if us := users[r[0]]; len(us) > 0 {
			slices.Sort(us)
			out = append(out, api.ReactionForComment{Reaction: &api.ReactionValueFormats{Emoji: new(r[0]), ShortCode: new(code), Unicode: new(r[1])},
				ReactionUsers: us, ReactionsFromDeletedUsersCount: new(int32(0))})
		}
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Reaction.ShortCode < *out[j].Reaction.ShortCode })
	out, next, err := pageOf(out, from, size)
	if err != nil {
		return nil, err
	}
	return &api.GetCommentReactionsOutput{ReactionsForComment: append(api.ReactionsForCommentList{}, out...), NextToken: next}, nil
}
