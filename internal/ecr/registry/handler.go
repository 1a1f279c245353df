package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Handler serves /v2/; see the package comment.
type Handler struct {
	b      Backend
	logger *slog.Logger
}

var _ http.Handler = (*Handler)(nil)

// New returns the data plane over b.
func New(b Backend, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{b: b, logger: logger}
}

// request is one request being served: who asks, about what.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	id   Identity
	repo Repo
	// name is the repository as the request spelled it, which is what
	// Location headers and tag lists must echo.
	name string
	// What an Auditor hears of: the route, the path's argument, the
	// action the request was authorized as, and a manifest put.
	route, arg, action string
	manifest           []byte
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	id, ok := h.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm="http://%s/",service="ecr.amazonaws.com"`, r.Host))
		msg := "Not Authorized"
		if _, _, sent := r.BasicAuth(); sent {
			msg = "Your authorization token is invalid or has expired."
		}
		writeError(w, r, Errorf(CodeUnauthorized, "%s", msg))
		return
	}
	q := &request{w: w, r: r, id: id}
	err := h.route(q)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			h.logger.Error("registry: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, r, err)
	}
	if a, ok := h.b.(Auditor); ok && q.action != "" {
		a.Audit(r.Context(), Audit{Identity: id, Repo: q.repo, Route: q.route, Arg: q.arg, Action: q.action,
			Request: r, Header: w.Header(), Manifest: q.manifest, Err: err})
	}
}

// Auditor is a Backend that hears of each request authorized as one of
// ECR's actions once it is answered, refused or failed: package ecr
// records it as the API call that does the same, as CloudTrail shows
// docker's pulls and pushes on AWS.
type Auditor interface {
	Audit(ctx context.Context, a Audit)
}

// Audit is one answered request.
type Audit struct {
	Identity Identity
	Repo     Repo
	// Route is the kind of path (RouteManifest...), Arg the reference,
	// digest or upload ID it names, and Action what the request was
	// authorized as (ActionBatchGetImage...).
	Route, Arg, Action string
	Request            *http.Request
	Header             http.Header // the answer's
	Manifest           []byte      // the manifest a PUT sent
	Err                error       // how it failed; nil when it did not
}

// The routes under a repository, as Audit names them.
const (
	RouteTags      = "tags"
	RouteManifest  = "manifest"
	RouteUpload    = "upload" // Arg "" starts one
	RouteBlob      = "blob"
	RouteReferrers = "referrers"
)

func (h *Handler) authenticate(r *http.Request) (Identity, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return Identity{}, false
	}
	return h.b.Authenticate(r.Context(), user, pass)
}

// route dispatches by the path's shape, read from the end: names may hold
// slashes, references and digests may not.
func (h *Handler) route(q *request) error {
	path := strings.TrimPrefix(q.r.URL.Path, "/v2")
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
			return Errorf(CodeUnsupported, "The operation is unsupported.")
		}
		q.w.Header().Set("Content-Type", "application/json")
		q.w.Write([]byte("{}"))
		return nil
	}
	if path == "_catalog" {
		return h.catalog(q)
	}
	segs := strings.Split(path, "/")
	for _, rt := range repoRoutes {
		name, arg, ok := rt.match(segs)
		if !ok {
			continue
		}
		if err := q.setRepo(name); err != nil {
			return err
		}
		q.route, q.arg = rt.name, arg
		return rt.serve(h, q, arg)
	}
	return &Error{Code: CodeNameUnknown, Message: "The requested resource does not exist."}
}

// repoRoute is a path under a repository, by the segments after its name:
// "*" is any one segment, which serve gets.
type repoRoute struct {
	name   string
	suffix []string
	serve  func(h *Handler, q *request, arg string) error
}

// repoRoutes are tried in order: the first that matches serves.
var repoRoutes = []repoRoute{
	{RouteTags, []string{"tags", "list"}, func(h *Handler, q *request, _ string) error { return h.tags(q) }},
	{RouteManifest, []string{"manifests", "*"}, func(h *Handler, q *request, ref string) error { return h.manifest(q, ref) }},
	{RouteUpload, []string{"blobs", "uploads", "*"}, func(h *Handler, q *request, id string) error {
		if id == "" {
			return h.startUpload(q)
		}
		return h.upload(q, id)
	}},
	{RouteUpload, []string{"blobs", "uploads"}, func(h *Handler, q *request, _ string) error { return h.startUpload(q) }},
	{RouteBlob, []string{"blobs", "*"}, func(h *Handler, q *request, d string) error { return h.blob(q, d) }},
	{RouteReferrers, []string{"referrers", "*"}, func(h *Handler, q *request, d string) error { return h.referrers(q, d) }},
}

// match reports whether segs end in the route's suffix after a repository
// name of at least one segment, and returns the name and the segment "*"
// stood for.
func (rt repoRoute) match(segs []string) (name, arg string, ok bool) {
	n := len(segs) - len(rt.suffix)
	if n < 1 {
		return "", "", false
	}
	for i, want := range rt.suffix {
		switch got := segs[n+i]; {
		case want == "*":
			arg = got
		case got != want:
			return "", "", false
		}
	}
	return strings.Join(segs[:n], "/"), arg, true
}

func (q *request) setRepo(name string) error {
	repo, ok := ParseRepo(name, q.id)
	if !ok {
		return Errorf(CodeNameInvalid, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '%s''", RepositoryNamePattern)
	}
	q.repo, q.name = repo, name
	return nil
}

func (h *Handler) authorize(q *request, action string) error {
	q.action = action
	return h.b.Authorize(q.r.Context(), q.id, q.repo, action)
}

// The ECR action each method of a registry path needs: the one of the API
// call that does the same, which policies grant.
var (
	manifestActions = map[string]string{http.MethodGet: ActionBatchGetImage, http.MethodHead: ActionBatchGetImage,
		http.MethodPut: ActionPutImage, http.MethodDelete: ActionBatchDeleteImage}
	blobActions = map[string]string{http.MethodGet: ActionGetDownloadURLForLayer,
		http.MethodHead: ActionBatchCheckLayerAvailability, http.MethodDelete: ActionBatchDeleteImage}
	startUploadActions = map[string]string{http.MethodPost: ActionInitiateLayerUpload}
	uploadActions      = map[string]string{http.MethodGet: ActionInitiateLayerUpload, http.MethodPatch: ActionUploadLayerPart,
		http.MethodPut: ActionCompleteLayerUpload, http.MethodDelete: ActionInitiateLayerUpload}
	tagsActions = map[string]string{http.MethodGet: ActionListImages, http.MethodHead: ActionListImages}
)

// authorizeMethod takes the action that actions says the request's
// method needs; a method it does not name is not allowed.
func (h *Handler) authorizeMethod(q *request, actions map[string]string) error {
	action, ok := actions[q.r.Method]
	if !ok {
		return methodNotAllowed()
	}
	return h.authorize(q, action)
}

func methodNotAllowed() error {
	return Errorf(CodeUnsupported, "The operation is unsupported.")
}

// ----- manifests

func (h *Handler) manifest(q *request, ref string) error {
	ctx := q.r.Context()
	if err := h.authorizeMethod(q, manifestActions); err != nil {
		return err
	}
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		c, err := h.b.GetManifest(ctx, q.repo, ref)
		if err != nil {
			return err
		}
		hdr := q.w.Header()
		hdr.Set("Content-Type", c.MediaType)
		hdr.Set("Content-Length", strconv.Itoa(len(c.Body)))
		hdr.Set("Docker-Content-Digest", string(c.Digest))
		hdr.Set("ETag", `"`+string(c.Digest)+`"`)
		if q.r.Method == http.MethodHead {
			return nil
		}
		q.w.Write(c.Body)
		return nil
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(q.r.Body, MaxManifestSize+1))
		if err != nil {
			return Errorf(CodeManifestInvalid, "manifest could not be read: %v", err)
		}
		if len(body) > MaxManifestSize {
			return Errorf(CodeManifestInvalid, "manifest is larger than %d bytes", MaxManifestSize)
		}
		q.manifest = body
		tags := q.r.URL.Query()["tag"]
		d, m, err := h.b.PutManifest(ctx, q.repo, ref, tags, q.r.Header.Get("Content-Type"), body)
		if err != nil {
			return err
		}
		hdr := q.w.Header()
		hdr.Set("Location", "/v2/"+q.name+"/manifests/"+string(d))
		hdr.Set("Docker-Content-Digest", string(d))
		if m.Subject != nil {
			hdr.Set("OCI-Subject", string(m.Subject.Digest))
		}
		if len(tags) > 0 {
			hdr.Set("OCI-Tag", strings.Join(tags, ","))
		}
		hdr.Set("Content-Length", "0")
		q.w.WriteHeader(http.StatusCreated)
		return nil
	case http.MethodDelete:
		if err := h.b.DeleteManifest(ctx, q.repo, ref); err != nil {
			return err
		}
		q.w.WriteHeader(http.StatusAccepted)
	}
	return nil
}

// ----- blobs

func parseDigestParam(s string) (Digest, error) {
	d, ok := ParseDigest(s)
	if !ok {
		return "", Errorf(CodeDigestInvalid, "invalid digest %q", s)
	}
	return d, nil
}

func (h *Handler) blob(q *request, ds string) error {
	ctx := q.r.Context()
	d, err := parseDigestParam(ds)
	if err != nil {
		return err
	}
	if err := h.authorizeMethod(q, blobActions); err != nil {
		return err
	}
	if q.r.Method == http.MethodDelete {
		if err := h.b.DeleteBlob(ctx, q.repo, d); err != nil {
			return err
		}
		q.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	b, err := h.b.StatBlob(ctx, q.repo, d)
	if err != nil {
		return err
	}
	return serveBlob(q, b)
}

// copyBuffers lets blob reads and writes move large chunks: fewer system
// calls than io.Copy's 32 KiB for layers of hundreds of megabytes.
var copyBuffers = sync.Pool{New: func() any { return new([256 << 10]byte) }}

// ServeBlob answers a GET or HEAD of b, honouring a single byte Range.
// Exported for ECR's download URLs, which serve the same bytes.
func ServeBlob(w http.ResponseWriter, r *http.Request, b Blob) error {
	return serveBlob(&request{w: w, r: r}, b)
}

func serveBlob(q *request, b Blob) error {
	hdr := q.w.Header()
	hdr.Set("Docker-Content-Digest", string(b.Digest))
	hdr.Set("ETag", `"`+string(b.Digest)+`"`)
	hdr.Set("Accept-Ranges", "bytes")
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Cache-Control", "max-age=31536000")
	offset, length, status := int64(0), b.Size, http.StatusOK
	if rg := q.r.Header.Get("Range"); rg != "" && q.r.Method == http.MethodGet {
		var ok bool
		offset, length, ok = parseRange(rg, b.Size)
		if !ok {
			hdr.Set("Content-Range", fmt.Sprintf("bytes */%d", b.Size))
			q.w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return nil
		}
		status = http.StatusPartialContent
		hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+length-1, b.Size))
	}
	hdr.Set("Content-Length", strconv.FormatInt(length, 10))
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(status)
		return nil
	}
	rc, err := b.Open(q.r.Context(), offset, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	q.w.WriteHeader(status)
	buf := copyBuffers.Get().(*[256 << 10]byte)
	defer copyBuffers.Put(buf)
	// A failure now can only cut the response short; the client sees a
	// body shorter than Content-Length. The copy goes through a buffer on
	// purpose: sendfile(2) measured slower for clients that hash what they
	// read (docker, crane), which then copy cold page-cache pages instead
	// of data this copy just brought into the CPU cache.
	io.CopyBuffer(q.w, rc, buf[:])
	return nil
}

// parseRange reads one "bytes=" range against a blob of size bytes.
func parseRange(h string, size int64) (offset, length int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, size > 0
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end := size - 1
	if last != "" {
		end, err = strconv.ParseInt(last, 10, 64)
		if err != nil || end < start {
			return 0, 0, false
		}
		end = min(end, size-1)
	}
	return start, end - start + 1, true
}

// ----- uploads

func (q *request) uploadLocation(id string) string {
	return "/v2/" + q.name + "/blobs/uploads/" + id
}

func (h *Handler) startUpload(q *request) error {
	ctx := q.r.Context()
	if err := h.authorizeMethod(q, startUploadActions); err != nil {
		return err
	}
	query := q.r.URL.Query()
	if m := query.Get("mount"); m != "" {
		if d, ok := ParseDigest(m); ok {
			desc, err := h.mount(q, d, query.Get("from"))
			if err == nil {
				return blobCreated(q, desc.Digest)
			}
			var e *Error
			if !errors.As(err, &e) {
				return err
			}
			// Not mountable: the spec says to start an upload instead.
		}
	}
	id, err := h.b.StartUpload(ctx, q.repo)
	if err != nil {
		return err
	}
	if ds := query.Get("digest"); ds != "" {
		// Monolithic: the whole blob is in this POST.
		d, err := parseDigestParam(ds)
		if err != nil {
			h.b.CancelUpload(ctx, q.repo, id)
			return err
		}
		if _, err := h.b.WriteUpload(ctx, q.repo, id, 0, q.r.Body); err != nil {
			h.b.CancelUpload(ctx, q.repo, id)
			return err
		}
		desc, err := h.b.FinishUpload(ctx, q.repo, id, d)
		if err != nil {
			return err
		}
		return blobCreated(q, desc.Digest)
	}
	return uploadStatus(q, id, 0, http.StatusAccepted)
}

func (h *Handler) mount(q *request, d Digest, from string) (Descriptor, error) {
	ctx := q.r.Context()
	var src Repo
	if from != "" {
		var ok bool
		if src, ok = ParseRepo(from, q.id); !ok {
			return Descriptor{}, Errorf(CodeNameInvalid, "invalid repository name %q", from)
		}
		if err := h.b.Authorize(ctx, q.id, src, ActionGetDownloadURLForLayer); err != nil {
			return Descriptor{}, err
		}
	}
	return h.b.MountBlob(ctx, src, q.repo, d)
}

func blobCreated(q *request, d Digest) error {
	hdr := q.w.Header()
	hdr.Set("Location", "/v2/"+q.name+"/blobs/"+string(d))
	hdr.Set("Docker-Content-Digest", string(d))
	hdr.Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusCreated)
	return nil
}

// uploadProgress sets the headers that tell a client where an upload
// stands.
func uploadProgress(q *request, id string, size int64) {
	hdr := q.w.Header()
	hdr.Set("Location", q.uploadLocation(id))
	hdr.Set("Docker-Upload-UUID", id)
	hdr.Set("Range", fmt.Sprintf("0-%d", max(size-1, 0)))
}

// uploadStatus answers, without a body, where an upload stands.
func uploadStatus(q *request, id string, size int64, status int) error {
	uploadProgress(q, id, size)
	q.w.Header().Set("Content-Length", "0")
	q.w.WriteHeader(status)
	return nil
}

func (h *Handler) upload(q *request, id string) error {
	ctx := q.r.Context()
	if err := h.authorizeMethod(q, uploadActions); err != nil {
		return err
	}
	switch q.r.Method {
	case http.MethodGet:
		size, err := h.b.UploadSize(ctx, q.repo, id)
		if err != nil {
			return err
		}
		return uploadStatus(q, id, size, http.StatusNoContent)
	case http.MethodPatch:
		size, err := h.writeChunk(q, id)
		if err != nil {
			return err
		}
		return uploadStatus(q, id, size, http.StatusAccepted)
	case http.MethodPut:
		d, err := parseDigestParam(q.r.URL.Query().Get("digest"))
		if err != nil {
			return err
		}
		if q.r.ContentLength != 0 {
			if _, err := h.writeChunk(q, id); err != nil {
				return err
			}
		}
		desc, err := h.b.FinishUpload(ctx, q.repo, id, d)
		if err != nil {
			return err
		}
		return blobCreated(q, desc.Digest)
	case http.MethodDelete:
		if err := h.b.CancelUpload(ctx, q.repo, id); err != nil {
			return err
		}
		q.w.Header().Set("Content-Length", "0")
		q.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// writeChunk appends the request body to the upload, checking a
// Content-Range against where the upload stands.
func (h *Handler) writeChunk(q *request, id string) (int64, error) {
	ctx := q.r.Context()
	offset := int64(-1)
	if cr := q.r.Header.Get("Content-Range"); cr != "" {
		first, last, ok := parseContentRange(cr)
		if !ok || (q.r.ContentLength >= 0 && last-first+1 != q.r.ContentLength) {
			return 0, h.rangeInvalid(q, id, fmt.Sprintf("invalid Content-Range %q", cr))
		}
		offset = first
	}
	size, err := h.b.WriteUpload(ctx, q.repo, id, offset, q.r.Body)
	var e *Error
	if errors.As(err, &e) && e.Code == CodeRangeInvalid {
		return 0, h.rangeInvalid(q, id, e.Message)
	}
	return size, err
}

// rangeInvalid answers 416 with the upload's progress, so the client can
// resume from the right byte.
func (h *Handler) rangeInvalid(q *request, id, msg string) error {
	size, err := h.b.UploadSize(q.r.Context(), q.repo, id)
	if err != nil {
		return err
	}
	uploadProgress(q, id, size)
	return Errorf(CodeRangeInvalid, "%s", msg)
}

// parseContentRange reads "first-last" (and tolerates a "bytes " prefix).
func parseContentRange(s string) (first, last int64, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "bytes ")
	s, _, _ = strings.Cut(s, "/")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, false
	}
	return first, last, true
}

// ----- listings

// page reads the n and last parameters; n < 0 means no limit asked.
func page(r *http.Request) (n int, last string, err error) {
	q := r.URL.Query()
	n = -1
	if s := q.Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return 0, "", Errorf(CodePaginationNumberInvalid, "invalid number of results requested: %q", s)
		}
		n = v
	}
	return n, q.Get("last"), nil
}

// maxPage bounds a listing a client did not bound itself.
const maxPage = 1000

// listPage is one page of a sorted listing at path: the request's n and
// last bound it, list returns up to limit names after last, and a Link
// header points at the next page when there is one.
func listPage(q *request, path string, list func(ctx context.Context, last string, limit int) ([]string, error)) ([]string, error) {
	n, last, err := page(q.r)
	if err != nil {
		return nil, err
	}
	limit := n
	if limit < 0 || limit > maxPage {
		limit = maxPage
	}
	names, err := list(q.r.Context(), last, limit+1)
	if err != nil {
		return nil, err
	}
	if len(names) > limit {
		names = names[:limit]
		v := url.Values{"n": {strconv.Itoa(limit)}, "last": {names[len(names)-1]}}
		q.w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, path, v.Encode()))
	}
	return nonNil(names), nil
}

func (h *Handler) tags(q *request) error {
	if err := h.authorizeMethod(q, tagsActions); err != nil {
		return err
	}
	tags, err := listPage(q, "/v2/"+q.name+"/tags/list", func(ctx context.Context, last string, limit int) ([]string, error) {
		return h.b.Tags(ctx, q.repo, last, limit)
	})
	if err != nil {
		return err
	}
	return writeJSON(q, struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{q.name, tags})
}

func (h *Handler) catalog(q *request) error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		return methodNotAllowed()
	}
	names, err := listPage(q, "/v2/_catalog", func(ctx context.Context, last string, limit int) ([]string, error) {
		return h.b.Catalog(ctx, q.id, last, limit)
	})
	if err != nil {
		return err
	}
	return writeJSON(q, struct {
		Repositories []string `json:"repositories"`
	}{names})
}

func (h *Handler) referrers(q *request, ds string) error {
	if q.r.Method != http.MethodGet && q.r.Method != http.MethodHead {
		return methodNotAllowed()
	}
	d, err := parseDigestParam(ds)
	if err != nil {
		return err
	}
	if err := h.authorize(q, ActionBatchGetImage); err != nil {
		return err
	}
	refs, err := h.b.Referrers(q.r.Context(), q.repo, d)
	if err != nil {
		return err
	}
	if at := q.r.URL.Query()["artifactType"]; len(at) > 0 {
		kept := refs[:0]
		for _, r := range refs {
			for _, t := range at {
				if r.ArtifactType == t {
					kept = append(kept, r)
					break
				}
			}
		}
		refs = kept
		q.w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	q.w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
	return writeJSON(q, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: nonNil(refs),
	})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(q *request, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if q.w.Header().Get("Content-Type") == "" {
		q.w.Header().Set("Content-Type", "application/json")
	}
	q.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if q.r.Method == http.MethodHead {
		return nil
	}
	q.w.Write(b)
	return nil
}
