package config

import "net/url"

// Where uploaded files are kept.
const (
	UploadsDisk = "disk" // under DataDir/uploads, one node or a shared volume
	UploadsS3   = "s3"   // in an S3-compatible bucket shared by every node
)

// Uploads says where uploaded files are kept. S3 credentials come from the
// standard AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the
// shared files, or an instance or task role), read by the AWS SDK.
type Uploads struct {
	Backend  string // SWITCHBOARD_UPLOADS: disk or s3; s3 when a bucket is set
	Bucket   string // SWITCHBOARD_S3_BUCKET
	Endpoint string // SWITCHBOARD_S3_ENDPOINT: an S3-compatible store, addressed path-style
	Region   string // SWITCHBOARD_S3_REGION; empty means the AWS chain's
}

func loadUploads(getenv func(string) string) (Uploads, error) {
	u := Uploads{
		Backend:  getenv("SWITCHBOARD_UPLOADS"),
		Bucket:   getenv("SWITCHBOARD_S3_BUCKET"),
		Endpoint: getenv("SWITCHBOARD_S3_ENDPOINT"),
		Region:   getenv("SWITCHBOARD_S3_REGION"),
	}
	if u.Backend == "" {
		u.Backend = UploadsDisk
		if u.Bucket != "" {
			u.Backend = UploadsS3
		}
	}
	switch u.Backend {
	case UploadsDisk:
		// S3 settings with disk storage are a half-finished switch: saying
		// so beats silently keeping files on one node's disk.
		if u.Bucket != "" || u.Endpoint != "" || u.Region != "" {
			return Uploads{}, &Error{"SWITCHBOARD_UPLOADS", "is disk, but SWITCHBOARD_S3_* settings are set"}
		}
	case UploadsS3:
		if u.Bucket == "" {
			return Uploads{}, &Error{"SWITCHBOARD_S3_BUCKET", "must be set when SWITCHBOARD_UPLOADS is s3"}
		}
		if len(u.Bucket) < 3 || len(u.Bucket) > 63 {
			return Uploads{}, &Error{"SWITCHBOARD_S3_BUCKET", "must be a bucket name of 3 to 63 characters"}
		}
	default:
		return Uploads{}, &Error{"SWITCHBOARD_UPLOADS", "must be disk or s3"}
	}
	if u.Endpoint != "" {
		e, err := url.Parse(u.Endpoint)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || e.RawQuery != "" {
			return Uploads{}, &Error{"SWITCHBOARD_S3_ENDPOINT", "must be an http:// or https:// URL"}
		}
	}
	return u, nil
}
