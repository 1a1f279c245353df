package runner

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// localCacheMount is where a LOCAL_CUSTOM_CACHE host directory appears in
// the build container.
const localCacheMount = "/codebuild/local-cache"

// s3CacheDir is the container directory an S3 cache is restored into and
// saved from.
const s3CacheDir = outputDir + "/cache"

// localCacheDir is the project's custom cache directory on the host, when
// the build uses one.
func (x *build) localCacheDir() string {
	c := x.b.Cache
	if c.Type != "LOCAL" || c.LocalDir == "" || !slices.Contains(c.Modes, "LOCAL_CUSTOM_CACHE") {
		return ""
	}
	if err := os.MkdirAll(c.LocalDir, 0o777); err != nil {
		return ""
	}
	return c.LocalDir
}

// cacheDir is the container directory holding the build's cache, or "".
func (x *build) cacheDir() string {
	if x.spec.Cache == nil || len(x.spec.Cache.Paths) == 0 {
		return ""
	}
	switch {
	case x.localCacheDir() != "":
		return localCacheMount
	case x.b.Cache.Type == "S3":
		return s3CacheDir
	}
	return ""
}

func (x *build) cacheKey() string {
	if x.spec.Cache.Key == "" {
		return ""
	}
	key, err := x.expand(x.spec.Cache.Key)
	if err != nil {
		return x.spec.Cache.Key
	}
	return key
}

// restoreCache copies the cached paths back where the build expects
// them. A cache that cannot be restored only costs time: the build goes
// on, as on AWS.
func (x *build) restoreCache() outcome {
	dir := x.cacheDir()
	if dir == "" || x.spec.Cache.Action == "save" {
		return succeeded
	}
	if dir == s3CacheDir {
		x.logf("Downloading S3 cache...")
		keys := append([]string{x.cacheKey()}, x.spec.Cache.FallbackKeys...)
		for _, key := range keys {
			if err := x.h.RestoreCache(x.ctx, key, x.hostPath(dir)); err != nil {
				x.logf("Unable to download cache: %v", err)
				continue
			}
			break
		}
	}
	_, status, err := x.internal(x.ctx, fmt.Sprintf(`c=%s
[ -d "$c/abs" ] && cp -a "$c/abs/." /
[ -d "$c/src" ] && cp -a "$c/src/." "$CODEBUILD_SRC_DIR/"
true`, shellQuote(dir)))
	if err != nil || status != 0 {
		x.logf("Unable to restore cache: exit status %d %v", status, err)
	}
	return succeeded
}

// cacheRoot is the directory or file a cache path pattern stands for:
// "/root/.m2/**/*" caches /root/.m2.
func cacheRoot(p string) string {
	for _, suffix := range []string{"/**/*", "/**", "/*"} {
		p = strings.TrimSuffix(p, suffix)
	}
	return p
}

// saveCache copies the cache paths into the cache directory and, for S3,
// hands it to the hooks.
func (x *build) saveCache() {
	dir := x.cacheDir()
	if dir == "" || x.spec.Cache.Action == "restore" {
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "c=%s\n", shellQuote(dir))
	sb.WriteString(`save() { [ -e "$1" ] || return 0; d="$2/$(dirname "$1")"; mkdir -p "$d" && rm -rf "$2/$1" && cp -a "$1" "$d/"; }` + "\n")
	for _, p := range x.spec.Cache.Paths {
		root := cacheRoot(p)
		if strings.HasPrefix(root, "/") {
			fmt.Fprintf(&sb, "cd / && save %s \"$c/abs\"\n", shellQuote(strings.TrimPrefix(path.Clean(root), "/")))
			continue
		}
		clean, err := localPattern(root)
		if err != nil {
			x.logf("Skipping cache path %s: %v", p, err)
			continue
		}
		fmt.Fprintf(&sb, "cd \"$CODEBUILD_SRC_DIR\" && save %s \"$c/src\"\n", shellQuote(clean))
	}
	_, status, err := x.internal(x.ctx, sb.String())
	if err != nil || status != 0 {
		x.logf("Unable to save cache: exit status %d %v", status, err)
		return
	}
	if dir == s3CacheDir {
		x.logf("Uploading S3 cache...")
		if err := x.h.SaveCache(x.ctx, x.cacheKey(), filepath.Clean(x.hostPath(dir))); err != nil {
			x.logf("Unable to upload cache: %v", err)
		}
	}
}
