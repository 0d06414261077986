package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// S3Options locate the bucket uploads are kept in.
type S3Options struct {
	Bucket string
	// Endpoint is an S3-compatible store's URL (MinIO, Ceph, …). Such stores
	// are addressed path-style (endpoint/bucket/key), which needs no
	// wildcard DNS. Empty means AWS S3 itself.
	Endpoint string
	// Region is the bucket's region; empty means the AWS chain's (AWS_REGION,
	// the shared config file), and us-east-1 for a custom endpoint.
	Region string
	// Credentials override the standard AWS chain (environment, shared
	// files, instance or task role); nil means the chain.
	Credentials aws.CredentialsProvider
	// SpoolDir holds an upload while it is measured against the size limit
	// before it is sent; empty means the system's temp directory.
	SpoolDir string
}

// S3 is blob storage in an S3-compatible bucket, shared by every node of a
// cluster. The bucket needs no public access: files are streamed to clients
// by the node that checked their signed link.
type S3 struct {
	client *s3.Client
	bucket string
	spool  string
}

// NewS3 connects to the bucket and checks that it is reachable with the
// credentials at hand, so a misconfigured node fails at start rather than on
// the first upload.
func NewS3(ctx context.Context, o S3Options) (*S3, error) {
	if o.Bucket == "" {
		return nil, errors.New("upload: S3 bucket name is empty")
	}
	loaders := []func(*awsconfig.LoadOptions) error{}
	if o.Region != "" {
		loaders = append(loaders, awsconfig.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		loaders = append(loaders, awsconfig.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("upload: loading AWS configuration: %w", err)
	}
	if cfg.Region == "" && o.Endpoint != "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
			// Not every S3-compatible store accepts the optional checksums
			// the SDK would otherwise add to each request and expect back.
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(o.Bucket)}); err != nil {
		return nil, fmt.Errorf("upload: S3 bucket %q: %w", o.Bucket, err)
	}
	return &S3{client: client, bucket: o.Bucket, spool: o.SpoolDir}, nil
}

// Close releases nothing: the client holds only idle connections.
func (s *S3) Close() error { return nil }

// Put stores r under key. The stream is spooled to a temp file first: that
// enforces maxBytes before anything reaches the bucket, and gives the
// request a known length. A PutObject replaces the object atomically, so a
// failed Put leaves nothing new under key.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, maxBytes int64) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(s.spool, "switchboard-upload-*")
	if err != nil {
		return 0, fmt.Errorf("upload: creating spool file: %w", err)
	}
	defer func() {
		f.Close()
		_ = os.Remove(f.Name())
	}()
	n, err := copyLimited(ctx, f, r, maxBytes)
	if err != nil {
		if chat.IsCode(err, chat.CodeTooLarge) {
			return 0, err
		}
		return 0, fmt.Errorf("upload: spooling %s: %w", key, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("upload: spooling %s: %w", key, err)
	}
	if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          f,
		ContentLength: aws.Int64(n),
		// The served type comes from the upload's row, never from here.
		ContentType: aws.String(typeUnknown),
	}); err != nil {
		return 0, fmt.Errorf("upload: storing %s in S3: %w", key, err)
	}
	return n, nil
}

// Open starts reading the object; a missing key is CodeNotFound.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	o := &s3Object{ctx: ctx, s: s, key: key}
	body, size, err := o.get(0, "")
	if err != nil {
		return nil, err
	}
	o.body, o.size = body, size
	return o, nil
}

// Delete removes the object. S3 reports success for a missing key too.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil && !isNotFound(err) {
		return fmt.Errorf("upload: deleting %s from S3: %w", key, err)
	}
	return nil
}

func isNotFound(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// s3Object reads an object as a seekable stream, which is what
// http.ServeContent needs for Range requests. Seeking only moves a position;
// a read from a position the open body is not at re-requests the object from
// there. A whole-file download thus costs one GET, a range two.
type s3Object struct {
	ctx  context.Context
	s    *S3
	key  string
	etag string // of the first response; later ranges must match it
	size int64
	pos  int64
	body io.ReadCloser
	at   int64 // position of body's next byte
}

// get requests the object from offset on, returning its body and the whole
// object's size.
func (o *s3Object) get(offset int64, ifMatch string) (io.ReadCloser, int64, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(o.s.bucket), Key: aws.String(o.key)}
	if offset > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-")
	}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	out, err := o.s.client.GetObject(o.ctx, in)
	if isNotFound(err) {
		return nil, 0, chat.NotFound("file")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("upload: reading %s from S3: %w", o.key, err)
	}
	if o.etag == "" && out.ETag != nil {
		o.etag = *out.ETag
	}
	return out.Body, offset + aws.ToInt64(out.ContentLength), nil
}

func (o *s3Object) Read(p []byte) (int, error) {
	if o.pos >= o.size {
		return 0, io.EOF
	}
	if o.body == nil || o.at != o.pos {
		o.closeBody()
		body, _, err := o.get(o.pos, o.etag)
		if err != nil {
			return 0, err
		}
		o.body, o.at = body, o.pos
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	o.at = o.pos
	if err == io.EOF && o.pos < o.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errors.New("upload: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("upload: negative position")
	}
	o.pos = offset
	return offset, nil
}

func (o *s3Object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *s3Object) Close() error {
	o.closeBody()
	return nil
}
