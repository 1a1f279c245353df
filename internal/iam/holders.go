package iam

import (
	"cmp"
	"errors"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

// holder is an entity that policies attach to and inline policies live
// in: a user, a group or a role.
type holder interface {
	entity
	attachedPolicies() *[]string
	inlinePolicies() *[]inlinePolicy
}

// holderRecord is a pointer to a holder's record.
type holderRecord[T any] interface {
	record[T]
	holder
}

// boundedRecord is a holder that may have a permissions boundary: a user
// or a role.
type boundedRecord[T any] interface {
	holderRecord[T]
	boundaryPolicy() *string
}

func (u *userRec) attachedPolicies() *[]string      { return &u.Attached }
func (u *userRec) inlinePolicies() *[]inlinePolicy  { return &u.Inline }
func (u *userRec) boundaryPolicy() *string          { return &u.Boundary }
func (g *groupRec) attachedPolicies() *[]string     { return &g.Attached }
func (g *groupRec) inlinePolicies() *[]inlinePolicy { return &g.Inline }
func (r *roleRec) attachedPolicies() *[]string      { return &r.Attached }
func (r *roleRec) inlinePolicies() *[]inlinePolicy  { return &r.Inline }
func (r *roleRec) boundaryPolicy() *string          { return &r.Boundary }

// holderKind is what differs between users, groups and roles when
// policies are attached to them or put in them.
type holderKind[T any, P holderRecord[T]] struct {
	entityKind[T, P]
	maxAttached int
	quotaName   string // as LimitExceeded names the attachment quota
	inlineQuota int    // characters, all inline policies together
}

var (
	userHolder = holderKind[userRec, *userRec]{entityKind: users,
		maxAttached: 10, quotaName: "PoliciesPerUser", inlineQuota: userInlineSizeQuota}
	groupHolder = holderKind[groupRec, *groupRec]{entityKind: groups,
		maxAttached: 10, quotaName: "PoliciesPerGroup", inlineQuota: groupInlineSizeQuota}
	roleHolder = holderKind[roleRec, *roleRec]{entityKind: roles,
		maxAttached: 20, quotaName: "PoliciesPerRole", inlineQuota: roleInlineSizeQuota}
)

// holderLoaders load a holder of the kind the attachment index names.
var holderLoaders = map[string]func(tx store.Tx, acct, name string) (holder, error){
	users.resource: userHolder.loadHolder, groups.resource: groupHolder.loadHolder, roles.resource: roleHolder.loadHolder}

func (k holderKind[T, P]) loadHolder(tx store.Tx, acct, name string) (holder, error) {
	v, _, err := k.load(tx, acct, name)
	return P(&v), err
}

// policiesInUse is the DeleteConflict of a holder that still has policies.
func policiesInUse(h holder) error {
	return cmp.Or(mustFirstIf(len(*h.attachedPolicies()) > 0, "detach all policies"),
		mustFirstIf(len(*h.inlinePolicies()) > 0, "delete policies"))
}

// modifiable refuses changes to a service-linked role's policies, which
// belong to the service.
func modifiable(h holder) error {
	if r, ok := h.(*roleRec); ok && r.ServiceLinked != "" {
		return protectedRole(r.Name)
	}
	return nil
}

func protectedRole(name string) error {
	return api.NewUnmodifiableEntityException("Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", name)
}

// Policy attachments are indexed by policy so that AttachmentCount,
// ListEntitiesForPolicy and DeletePolicy's check are prefix operations.
const (
	usagePermissions = "P"
	usageBoundary    = "B"
)

func attachmentPrefix(acct, arn string) string { return acct + "/" + arn + "|" }

func attachmentKey(acct, arn, usage, kind, name string) string {
	return attachmentPrefix(acct, arn) + usage + "|" + kind + "|" + strings.ToLower(name)
}

func addAttachment(tx store.Tx, acct, arn, usage, kind, name string) error {
	_, err := tx.Put(attachmentsTable, attachmentKey(acct, arn, usage, kind, name), []byte(name), store.AnyVersion)
	return err
}

func removeAttachment(tx store.Tx, acct, arn, usage, kind, name string) error {
	err := tx.Delete(attachmentsTable, attachmentKey(acct, arn, usage, kind, name), store.AnyVersion)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// forEachAttachment calls fn for each policy a holder uses: attached as
// permissions policies, then as its permissions boundary (if any).
func forEachAttachment(attached []string, boundary string, fn func(arn, usage string) error) error {
	for _, arn := range attached {
		if err := fn(arn, usagePermissions); err != nil {
			return err
		}
	}
	if boundary != "" {
		return fn(boundary, usageBoundary)
	}
	return nil
}

// renameAttachments re-keys a renamed entity's attachment index entries.
func renameAttachments(tx store.Tx, acct, kind, oldName, newName string, attached []string, boundary string) error {
	return forEachAttachment(attached, boundary, func(arn, usage string) error {
		if err := removeAttachment(tx, acct, arn, usage, kind, oldName); err != nil {
			return err
		}
		return addAttachment(tx, acct, arn, usage, kind, newName)
	})
}

// releaseAttachments drops a deleted entity's attachment index entries.
func releaseAttachments(tx store.Tx, acct, kind, name string, attached []string, boundary string) error {
	return forEachAttachment(attached, boundary, func(arn, usage string) error {
		return removeAttachment(tx, acct, arn, usage, kind, name)
	})
}

func attachmentCount(tx store.Tx, acct, arn, usage string) (int, error) {
	return tx.Count(attachmentsTable, attachmentPrefix(acct, arn)+usage+"|")
}
