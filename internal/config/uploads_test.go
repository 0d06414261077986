package config

import (
	"strings"
	"testing"
)

func TestUploads(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    Uploads
		wantErr string // the setting named in the error
	}{
		{"default is disk", nil, Uploads{Backend: UploadsDisk}, ""},
		{"a bucket means s3", map[string]string{"SWITCHBOARD_S3_BUCKET": "chat-files"}, Uploads{Backend: UploadsS3, Bucket: "chat-files"}, ""},
		{"minio-style", map[string]string{
			"SWITCHBOARD_UPLOADS": "s3", "SWITCHBOARD_S3_BUCKET": "chat-files",
			"SWITCHBOARD_S3_ENDPOINT": "http://127.0.0.1:9000", "SWITCHBOARD_S3_REGION": "eu-west-1",
		}, Uploads{Backend: UploadsS3, Bucket: "chat-files", Endpoint: "http://127.0.0.1:9000", Region: "eu-west-1"}, ""},
		{"s3 without bucket", map[string]string{"SWITCHBOARD_UPLOADS": "s3"}, Uploads{}, "SWITCHBOARD_S3_BUCKET"},
		{"short bucket", map[string]string{"SWITCHBOARD_S3_BUCKET": "ab"}, Uploads{}, "SWITCHBOARD_S3_BUCKET"},
		{"unknown backend", map[string]string{"SWITCHBOARD_UPLOADS": "ftp"}, Uploads{}, "SWITCHBOARD_UPLOADS"},
		{"disk with s3 settings", map[string]string{"SWITCHBOARD_UPLOADS": "disk", "SWITCHBOARD_S3_BUCKET": "chat-files"}, Uploads{}, "SWITCHBOARD_UPLOADS"},
		{"endpoint not a URL", map[string]string{"SWITCHBOARD_S3_BUCKET": "chat-files", "SWITCHBOARD_S3_ENDPOINT": "127.0.0.1:9000"}, Uploads{}, "SWITCHBOARD_S3_ENDPOINT"},
		{"endpoint ftp", map[string]string{"SWITCHBOARD_S3_BUCKET": "chat-files", "SWITCHBOARD_S3_ENDPOINT": "ftp://h"}, Uploads{}, "SWITCHBOARD_S3_ENDPOINT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load(nil, envOf(c.env))
			if c.wantErr != "" {
				if !IsConfigError(err) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Uploads != c.want {
				t.Fatalf("Uploads = %+v, want %+v", cfg.Uploads, c.want)
			}
		})
	}
}
