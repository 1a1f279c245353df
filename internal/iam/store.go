package iam

import (
	"cmp"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"overcast/internal/store"
)

// Store layout. Every key starts with the account, so each account is a
// prefix of its own; names are keyed lowercased because IAM names are
// unique regardless of case, while records keep the case they were given.
//
//	iam.users             <acct>/<lower name>            userRec
//	iam.users.by-path     <acct>/<path><lower name>      lower name (ListUsers with PathPrefix is a prefix scan)
//	iam.groups(.by-path)  same shape                     groupRec
//	iam.roles(.by-path)   same shape                     roleRec
//	iam.policies(.by-path) same shape                    policyRec (customer managed, versions inline)
//	iam.instance-profiles(.by-path) same shape           instanceProfileRec
//	iam.group-members     <acct>/<lower group>/<lower user>  display user name (GetGroup pages over it)
//	iam.attachments       <acct>|<policy ARN>|<P or B>|<kind>|<lower name>  display name
//	                      P: attached as a permissions policy, B: used as a permissions boundary;
//	                      counting a prefix gives AttachmentCount, for AWS managed policies too
//	iam.access-keys       <access key ID>                accessKeyRec (one Get per signed request)
//	iam.access-key-usage  <access key ID>                keyUsage (apart, so recording use never
//	                                                     conflicts with the key's own updates)
//	iam.accounts          <acct>                         accountRec (alias, root keys)
//	iam.account-aliases   <alias>                        account ID (aliases are global)
//	iam.deletion-tasks    <task ID>                      deletionTask (service-linked roles)
const (
	accessKeysTable    = "iam.access-keys"
	keyUsageTable      = "iam.access-key-usage"
	groupMembersTable  = "iam.group-members"
	attachmentsTable   = "iam.attachments"
	accountsTable      = "iam.accounts"
	aliasesTable       = "iam.account-aliases"
	deletionTasksTable = "iam.deletion-tasks"
)

// entityTable is a table of named IAM entities with its path index; each
// kind's is in its entityKind.
type entityTable struct {
	name, byPath string
}

// entity is a record with a name and a path.
type entity interface {
	ident() (name, path string)
}

func nameKey(acct, name string) string { return acct + "/" + strings.ToLower(name) }

func (t entityTable) pathKey(acct, path, name string) string {
	return acct + "/" + path + strings.ToLower(name)
}

// get reads the entity acct/name into v, returning its version.
func (t entityTable) get(tx store.Tx, acct, name string, v any) (int64, error) {
	return store.GetJSON(tx, t.name, nameKey(acct, name), v)
}

func (t entityTable) exists(tx store.Tx, acct, name string) (bool, error) {
	_, err := tx.Get(t.name, nameKey(acct, name))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// create stores a new entity; ErrConflict if the name is taken meanwhile.
func (t entityTable) create(tx store.Tx, acct string, v entity) error {
	name, path := v.ident()
	if _, err := store.PutJSON(tx, t.name, nameKey(acct, name), v, 0); err != nil {
		return err
	}
	_, err := tx.Put(t.byPath, t.pathKey(acct, path, name), []byte(strings.ToLower(name)), store.AnyVersion)
	return err
}

// save writes v over old (read at version), moving the path index entry
// when the path changed and re-keying the record when the name did.
func (t entityTable) save(tx store.Tx, acct string, old entity, version int64, v entity) error {
	oldName, oldPath := old.ident()
	name, path := v.ident()
	if !strings.EqualFold(oldName, name) {
		if err := t.remove(tx, acct, old, version); err != nil {
			return err
		}
		return t.create(tx, acct, v)
	}
	if _, err := store.PutJSON(tx, t.name, nameKey(acct, name), v, version); err != nil {
		return err
	}
	if oldPath != path {
		if err := tx.Delete(t.byPath, t.pathKey(acct, oldPath, oldName), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := tx.Put(t.byPath, t.pathKey(acct, path, name), []byte(strings.ToLower(name)), store.AnyVersion); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes v (read at version) and its index entry.
func (t entityTable) remove(tx store.Tx, acct string, v entity, version int64) error {
	name, path := v.ident()
	if err := tx.Delete(t.name, nameKey(acct, name), version); err != nil {
		return err
	}
	if err := tx.Delete(t.byPath, t.pathKey(acct, path, name), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func (t entityTable) count(tx store.Tx, acct string) (int, error) {
	return tx.Count(t.name, acct+"/")
}

// page is a decoded Marker and MaxItems.
type page struct {
	after string // sort key of the last item already returned
	max   int
}

const defaultMaxItems = 100

// unpaged is a page that holds everything.
var unpaged = page{max: 1 << 30}

func newPage(marker *string, maxItems *int32) (page, error) {
	pg := page{max: defaultMaxItems}
	if maxItems != nil {
		pg.max = int(*maxItems)
	}
	if marker != nil {
		b, err := base64.RawURLEncoding.DecodeString(*marker)
		if err != nil || len(b) == 0 {
			return page{}, validationError("Invalid Marker.")
		}
		pg.after = string(b)
	}
	return pg, nil
}

// encodeMarker makes a sort key opaque, as AWS's markers are.
func encodeMarker(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// scan visits table's items under acct/prefix after the page's marker.
// take reports whether it kept an item. To know whether another page
// follows, scan lets take keep one item more than a page holds, then stops
// and returns the marker of the page's last item: callers trim to pg.max.
func (pg page) scan(tx store.Tx, table, acct, prefix string, take func(store.Item) (bool, error)) (string, error) {
	base := acct + "/"
	opt := store.ScanOptions{Prefix: base + prefix}
	if pg.after != "" {
		opt.After = base + pg.after
	}
	taken, last, next := 0, "", ""
	err := tx.Scan(table, opt, func(it store.Item) error {
		ok, err := take(it)
		if err != nil || !ok {
			return err
		}
		if taken++; taken > pg.max {
			next = encodeMarker(strings.TrimPrefix(last, base))
			return store.ErrStop
		}
		last = it.Key
		return nil
	})
	return next, err
}

// pageSlice pages through a list held in memory, ordered by key.
func pageSlice[T any](items []T, key func(T) string, pg page) ([]T, string) {
	items = slices.Clone(items)
	slices.SortStableFunc(items, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	start := 0
	if pg.after != "" {
		start, _ = slices.BinarySearchFunc(items, pg.after, func(v T, after string) int {
			if key(v) <= after {
				return -1
			}
			return 1
		})
	}
	end := min(start+pg.max, len(items))
	next := ""
	if end < len(items) {
		next = encodeMarker(key(items[end-1]))
	}
	return items[start:end], next
}

// truncated is the IsTruncated/Marker pair of a list response.
func truncated(next string) (*bool, *string) {
	if next == "" {
		return new(false), nil
	}
	return new(true), &next
}

// Records.

// named is what every IAM entity has: a name unique in its account
// regardless of case, a path, a unique ID and its creation date.
type named struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

func (n named) ident() (name, path string) { return n.Name, n.Path }

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

type inlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"doc"`
}

type userRec struct {
	named
	Tags         []tag          `json:"tags,omitempty"`
	Inline       []inlinePolicy `json:"inline,omitempty"`
	Attached     []string       `json:"attached,omitempty"` // policy ARNs
	Boundary     string         `json:"boundary,omitempty"` // policy ARN
	Groups       []string       `json:"groups,omitempty"`   // lowercased group names
	AccessKeys   []string       `json:"keys,omitempty"`
	SSHKeys      []string       `json:"sshKeys,omitempty"`
	ServiceCreds []string       `json:"serviceCreds,omitempty"`
	Login        *loginProfile  `json:"login,omitempty"`
}

type loginProfile struct {
	Created       time.Time `json:"created"`
	ResetRequired bool      `json:"reset,omitempty"`
}

type groupRec struct {
	named
	Inline   []inlinePolicy `json:"inline,omitempty"`
	Attached []string       `json:"attached,omitempty"`
}

type roleRec struct {
	named
	Trust            string         `json:"trust"`
	Description      *string        `json:"description,omitempty"`
	MaxSession       int32          `json:"maxSession"`
	Tags             []tag          `json:"tags,omitempty"`
	Inline           []inlinePolicy `json:"inline,omitempty"`
	Attached         []string       `json:"attached,omitempty"`
	Boundary         string         `json:"boundary,omitempty"`
	InstanceProfiles []string       `json:"profiles,omitempty"` // lowercased names
	// ServiceLinked is the service a service-linked role belongs to.
	ServiceLinked string `json:"serviceLinked,omitempty"`
}

type policyRec struct {
	named
	Description    *string         `json:"description,omitempty"`
	Updated        time.Time       `json:"updated"`
	DefaultVersion string          `json:"default"`
	Versions       []policyVersion `json:"versions"`
	NextVersion    int             `json:"next"` // IDs are never reused
	Tags           []tag           `json:"tags,omitempty"`
}

type policyVersion struct {
	ID       string    `json:"id"`
	Document string    `json:"doc"`
	Created  time.Time `json:"created"`
}

type instanceProfileRec struct {
	named
	Roles []string `json:"roles,omitempty"` // lowercased role names
	Tags  []tag    `json:"tags,omitempty"`
}

// accessKeyRec carries what the gateway needs about a key, so that
// authenticating a request is one Get.
type accessKeyRec struct {
	ID      string    `json:"id"`
	Secret  string    `json:"secret"`
	Account string    `json:"account"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	// User is empty for the account root's own keys.
	UserName string `json:"user,omitempty"`
	UserID   string `json:"userId,omitempty"`
	UserPath string `json:"userPath,omitempty"`
}

type keyUsage struct {
	At      time.Time `json:"at"`
	Service string    `json:"service"`
	Region  string    `json:"region"`
}

type accountRec struct {
	Alias    string    `json:"alias,omitempty"`
	Created  time.Time `json:"created"`
	RootKeys []string  `json:"rootKeys,omitempty"`
}

type deletionTask struct {
	Account string `json:"account"`
	Status  string `json:"status"`
}
