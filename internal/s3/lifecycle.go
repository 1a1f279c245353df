package s3

import (
	"strconv"
	"time"

	api "overcast/internal/api/s3"
)

// Lifecycle configurations: validated as S3 validates them.

// transitionClasses are the classes a lifecycle rule can move objects to.
var transitionClasses = map[string]bool{"STANDARD_IA": true, "ONEZONE_IA": true, "INTELLIGENT_TIERING": true,
	"GLACIER": true, "DEEP_ARCHIVE": true, "GLACIER_IR": true}

// validateLifecycle refuses a configuration S3 would refuse, with S3's
// error: MalformedXML for what its schema rules out, InvalidArgument for a
// bad value, InvalidRequest for a combination it does not allow.
func validateLifecycle(cfg *api.BucketLifecycleConfiguration) error {
	if cfg == nil || len(cfg.Rules) == 0 {
		return errMalformedXML()
	}
	ids := map[string]bool{}
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		id := deref(r.ID)
		if len(id) > 255 {
			return errInvalidArgument("ID length should not exceed allowed limit of 255", "ID", id)
		}
		if id != "" && ids[id] {
			return errInvalidArgument("Rule ID must be unique. Found same ID for more than one rule", "ID", id)
		}
		ids[id] = true
		if s := deref(r.Status); s != "Enabled" && s != "Disabled" {
			return errMalformedXML()
		}
		if err := validateRuleFilter(r); err != nil {
			return err
		}
		if r.Expiration == nil && len(r.Transitions) == 0 && r.NoncurrentVersionExpiration == nil &&
			len(r.NoncurrentVersionTransitions) == 0 && r.AbortIncompleteMultipartUpload == nil {
			return errInvalidRequest("At least one action needs to be specified in a rule")
		}
		if err := validateRuleActions(r); err != nil {
			return err
		}
	}
	return nil
}

// validateRuleFilter checks that a rule names its objects once: by the
// legacy Prefix or by a Filter holding one condition (several go in And).
func validateRuleFilter(r *api.LifecycleRule) error {
	if (r.Prefix == nil) == (r.Filter == nil) {
		return errMalformedXML()
	}
	if f := r.Filter; f != nil {
		n := 0
		for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil, f.And != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return errMalformedXML()
		}
	}
	return nil
}

func validateRuleActions(r *api.LifecycleRule) error {
	tagged := r.Filter != nil && (r.Filter.Tag != nil || (r.Filter.And != nil && len(r.Filter.And.Tags) > 0))
	if e := r.Expiration; e != nil {
		n := 0
		for _, set := range []bool{e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil} {
			if set {
				n++
			}
		}
		switch {
		case n != 1:
			return errMalformedXML()
		case e.Days != nil && *e.Days <= 0:
			return errInvalidArgument("'Days' for Expiration action must be a positive integer", "Days", strconv.Itoa(int(*e.Days)))
		case e.Date != nil && !atMidnight(*e.Date):
			return errInvalidArgument("'Date' must be at midnight GMT", "Date", e.Date.UTC().Format(time.RFC3339))
		case e.ExpiredObjectDeleteMarker != nil && tagged:
			return errInvalidRequest("ExpiredObjectDeleteMarker cannot be specified with Tags.")
		}
	}
	for _, t := range r.Transitions {
		class := deref(t.StorageClass)
		switch {
		case !transitionClasses[class] || (t.Days == nil) == (t.Date == nil):
			return errMalformedXML()
		case t.Days != nil && *t.Days < 0:
			return errInvalidArgument("'Days' in Transition action must be nonnegative", "Days", strconv.Itoa(int(*t.Days)))
		case t.Days != nil && *t.Days < 30 && (class == "STANDARD_IA" || class == "ONEZONE_IA"):
			return errInvalidArgument("'Days' in Transition action must be greater than or equal to 30 for storageClass '"+class+"'",
				"Days", strconv.Itoa(int(*t.Days)))
		case t.Date != nil && !atMidnight(*t.Date):
			return errInvalidArgument("'Date' must be at midnight GMT", "Date", t.Date.UTC().Format(time.RFC3339))
		}
	}
	for _, t := range r.NoncurrentVersionTransitions {
		if !transitionClasses[deref(t.StorageClass)] || t.NoncurrentDays == nil {
			return errMalformedXML()
		}
	}
	if e := r.NoncurrentVersionExpiration; e != nil && (e.NoncurrentDays == nil || *e.NoncurrentDays <= 0) {
		return errInvalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
			"NoncurrentDays", strconv.Itoa(int(deref32(e.NoncurrentDays))))
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if a.DaysAfterInitiation == nil || *a.DaysAfterInitiation <= 0 {
			return errInvalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
				"DaysAfterInitiation", strconv.Itoa(int(deref32(a.DaysAfterInitiation))))
		}
		if tagged {
			return errInvalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.")
		}
	}
	return nil
}

func atMidnight(t time.Time) bool { return t.UTC().Truncate(24 * time.Hour).Equal(t) }

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
