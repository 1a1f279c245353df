package s3

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	api "overcast/internal/api/s3"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// objectAttributes are the names GetObjectAttributes takes in
// x-amz-object-attributes.
var objectAttributes = map[string]bool{"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true}

// GetObjectAttributes answers what a HEAD would, in a document, with only
// the attributes asked for, and the parts of a multipart object a page at
// a time. Unlike GetObject's header, its ETag has no quotes.
func (s *Service) GetObjectAttributes(ctx context.Context, in *api.GetObjectAttributesRequest) (*api.GetObjectAttributesOutput, error) {
	want := map[string]bool{}
	for _, a := range in.ObjectAttributes {
		a = strings.TrimSpace(a)
		if !objectAttributes[a] {
			return nil, errInvalidArgument("Invalid attribute name specified.", "x-amz-object-attributes", a)
		}
		want[a] = true
	}
	maxParts := 1000
	if in.MaxParts != nil {
		if *in.MaxParts < 0 {
			return nil, errInvalidArgument("Argument max-parts must be an integer between 0 and 2147483647", "max-parts", strconv.Itoa(int(*in.MaxParts)))
		}
		maxParts = min(int(*in.MaxParts), 1000)
	}
	marker := deref32(in.PartNumberMarker)
	if marker < 0 {
		return nil, errInvalidArgument("Argument part-number-marker must be an integer between 0 and 2147483647", "part-number-marker", strconv.Itoa(int(marker)))
	}
	versionID := deref(in.VersionId)
	var b *bucketRecord
	var o *objectRecord
	err := s.view(ctx, func(tx store.Tx) error {
		action := "s3:GetObjectAttributes"
		if versionID != "" {
			action = "s3:GetObjectVersionAttributes"
		}
		var err error
		if b, err = s.authorizedBucket(ctx, tx, *in.Bucket, action, *in.Key, nil); err != nil {
			return err
		}
		o, err = readableVersion(ctx, tx, b, *in.Key, versionID, http.MethodGet)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetObjectAttributesOutput{LastModified: new(o.Modified)}
	// The output has no member for it; S3 sends the header as on a HEAD.
	if o.Replication != "" {
		awsproto.ResponseHeader(ctx).Set("x-amz-replication-status", o.Replication)
	}
	if b.versioned() || o.VersionID != "null" {
		out.VersionId = new(o.VersionID)
	}
	if want["ETag"] {
		out.ETag = new(o.ETag)
	}
	if want["ObjectSize"] {
		out.ObjectSize = new(o.Size)
	}
	if want["StorageClass"] {
		out.StorageClass = new(orStandard(o.StorageClass))
	}
	if want["Checksum"] && o.Checksum != nil {
		ck := &api.Checksum{ChecksumType: new(o.Checksum.Type)}
		checksumFields{&ck.ChecksumCRC32, &ck.ChecksumCRC32C, &ck.ChecksumCRC64NVME, &ck.ChecksumSHA1, &ck.ChecksumSHA256}.set(o.Checksum)
		out.Checksum = ck
	}
	if want["ObjectParts"] && len(o.PartSizes) > 0 {
		out.ObjectParts = objectParts(o.PartSizes, marker, maxParts)
	}
	return out, nil
}

// objectParts is the page of a multipart object's parts after marker.
func objectParts(sizes []int64, marker int32, max int) *api.GetObjectAttributesParts {
	p := &api.GetObjectAttributesParts{TotalPartsCount: new(int32(len(sizes))), PartNumberMarker: new(marker),
		MaxParts: new(int32(max)), IsTruncated: new(false)}
	for n := int(marker) + 1; n <= len(sizes); n++ {
		if len(p.Parts) == max {
			p.IsTruncated = new(true)
			break
		}
		p.Parts = append(p.Parts, api.ObjectPart{PartNumber: new(int32(n)), Size: new(sizes[n-1])})
		p.NextPartNumberMarker = new(int32(n))
	}
	return p
}
