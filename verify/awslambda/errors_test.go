package awslambda_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/awslambda/lambdatest"
)

func TestRunZip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	srv := double(t, lambdatest.Options{})
	zip := hostZip(t)
	o := options(2, 2)
	o.MemoryMB = []int{128, 256}
	res, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: zip, Path: zip}}, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Configurations {
		if len(c.Samples) != 2 || c.Arch != settings.HostArch() {
			t.Errorf("%s: %d samples, arch %s", c.Label, len(c.Samples), c.Arch)
		}
		if len(c.Artifacts) != 1 || c.Artifacts[0].Name != "zip" || c.Artifacts[0].Bytes == 0 {
			t.Errorf("%s: artifacts %+v", c.Label, c.Artifacts)
		}
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}

	// A zip runs only as what it is built for: refused before deploying.
	other := settings.ARM64
	if settings.HostArch() == settings.ARM64 {
		other = settings.X86_64
	}
	o.Arches = []settings.Arch{other}
	if _, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: zip, Path: zip}}, o); err == nil {
		t.Errorf("a %s zip was accepted as %s", settings.HostArch(), other)
	}
	if n := srv.Calls("lambda:CreateFunction"); n != 2 {
		t.Errorf("%d functions created, want the first run's 2", n)
	}
}

func TestRunErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds functions")
	}
	good := hostZip(t)
	crash := crashingProject(t, settings.HostArch())
	tests := []struct {
		name   string
		source string
		setup  func(t *testing.T, srv *lambdatest.Server, o *awslambda.Options)
		check  func(t *testing.T, err error)
	}{
		{
			name: "no credentials", source: good,
			setup: func(t *testing.T, srv *lambdatest.Server, o *awslambda.Options) {
				t.Setenv("AWS_ACCESS_KEY_ID", "")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "")
			},
			check: func(t *testing.T, err error) {
				var ce *awslambda.CredentialsError
				if !errors.As(err, &ce) {
					t.Errorf("%v, want *CredentialsError", err)
				}
			},
		},
		{
			name: "no region", source: good,
			setup: func(t *testing.T, srv *lambdatest.Server, o *awslambda.Options) { t.Setenv("AWS_REGION", "") },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, awslambda.ErrNoRegion) {
					t.Errorf("%v, want ErrNoRegion", err)
				}
			},
		},
		{
			name: "no role", source: good,
			setup: func(t *testing.T, srv *lambdatest.Server, o *awslambda.Options) { o.Role = "" },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, awslambda.ErrNoRole) {
					t.Errorf("%v, want ErrNoRole", err)
				}
			},
		},
		{
			name: "creating functions denied", source: good,
			setup: func(t *testing.T, srv *lambdatest.Server, o *awslambda.Options) { srv.Deny("lambda:CreateFunction") },
			check: func(t *testing.T, err error) {
				var ad *awslambda.AccessDeniedError
				if !errors.As(err, &ad) || ad.Action != "lambda:CreateFunction" {
					t.Errorf("%v, want *AccessDeniedError for lambda:CreateFunction", err)
				}
			},
		},
		{
			name: "identity denied", source: good,
			setup: func(t *testing.T, srv *lambdatest.Server, o *awslambda.Options) { srv.Deny("sts:GetCallerIdentity") },
			check: func(t *testing.T, err error) {
				var ad *awslambda.AccessDeniedError
				if !errors.As(err, &ad) || ad.Action != "sts:GetCallerIdentity" {
					t.Errorf("%v, want *AccessDeniedError for sts:GetCallerIdentity", err)
				}
			},
		},
		{
			name: "function fails in init", source: crash,
			check: func(t *testing.T, err error) {
				var fe *awslambda.FunctionError
				if !errors.As(err, &fe) || fe.Phase != "init" || fe.Type != "Runtime.ExitError" {
					t.Fatalf("%v, want *FunctionError in init, Runtime.ExitError", err)
				}
				if want := "config missing: TABLE_NAME"; !strings.Contains(fe.Log, want) {
					t.Errorf("log tail %q lacks the function's output %q", fe.Log, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := double(t, lambdatest.Options{})
			o := options(2, 2)
			if tt.setup != nil {
				tt.setup(t, srv, &o)
			}
			_, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: tt.source, Path: tt.source}}, o)
			if err == nil {
				t.Fatal("no error")
			}
			tt.check(t, err)
			if left := srv.Functions(); len(left) != 0 {
				t.Errorf("functions left behind: %v", left)
			}
		})
	}
}

func TestRunRetries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	srv := double(t, lambdatest.Options{RetryAfter: 1})
	zip := hostZip(t)
	srv.Throttle("lambda:CreateFunction", 1)
	srv.Throttle("lambda:InvokeFunction", 2)
	srv.Conflict("lambda:UpdateFunctionConfiguration", 2)
	srv.Throttle("lambda:DeleteFunction", 1)
	res, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: zip, Path: zip}}, options(4, 2))
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Configurations[0]; len(c.Samples) != 4 {
		t.Errorf("%d samples, want 4", len(c.Samples))
	}
	if res.Throttled < 3 || res.Conflicts < 2 {
		t.Errorf("retried %d throttled and %d conflicting calls, want at least 3 and 2", res.Throttled, res.Conflicts)
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}
}

func TestRunCancelledLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	zip := hostZip(t)
	for _, stage := range []string{"deploying", "measuring", "samples"} {
		t.Run(stage, func(t *testing.T) {
			srv := double(t, lambdatest.Options{StateDelay: 200 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := options(6, 2)
			o.MemoryMB = []int{128, 256}
			o.Progress = &cancelAt{stage: stage, cancel: cancel}
			_, err := awslambda.Run(ctx, []awslambda.Source{{Label: zip, Path: zip}}, o)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
			if left := srv.Functions(); len(left) != 0 {
				t.Errorf("functions left behind: %v", left)
			}
		})
	}
}

func TestRunKeep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	srv := double(t, lambdatest.Options{})
	zip := hostZip(t)
	o := options(1, 1)
	o.Keep = true
	res, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: zip, Path: zip}}, o)
	if err != nil {
		t.Fatal(err)
	}
	if left := srv.Functions(); len(left) != 1 || len(res.Kept) != 1 || left[0] != res.Kept[0] {
		t.Errorf("kept %v, double has %v", res.Kept, left)
	}
}

func TestCleanup(t *testing.T) {
	srv := double(t, lambdatest.Options{})
	old := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	young := time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)
	fnopts := map[string]string{awslambda.TagTemporary: "true", awslambda.TagCreated: old}
	srv.AddFunction("fnopt-verify-0000000001", fnopts, 2*time.Hour)
	srv.AddFunction("fnopt-verify-0000000002", map[string]string{awslambda.TagTemporary: "true", awslambda.TagCreated: old}, 2*time.Hour)
	srv.AddFunction("fnopt-verify-0000000003", map[string]string{awslambda.TagTemporary: "true", awslambda.TagCreated: young}, 10*time.Minute)
	srv.AddFunction("fnopt-verify-notours", map[string]string{"team": "payments"}, 48*time.Hour)
	srv.AddFunction("orders-api", map[string]string{awslambda.TagTemporary: "true", awslambda.TagCreated: old}, 48*time.Hour)
	// Created long ago but changed a minute ago: a run is using it.
	srv.AddFunction("fnopt-verify-0000000004", map[string]string{awslambda.TagTemporary: "true", awslambda.TagCreated: old}, time.Minute)

	res, err := awslambda.Cleanup(context.Background(), awslambda.AccountOptions{}, fastBackoff, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fnopt-verify-0000000001", "fnopt-verify-0000000002"}; !slices.Equal(res.Deleted, want) {
		t.Errorf("deleted %v, want %v", res.Deleted, want)
	}
	if want := []string{"fnopt-verify-0000000003", "fnopt-verify-0000000004"}; !slices.Equal(res.Young, want) {
		t.Errorf("young %v, want %v", res.Young, want)
	}
	if n := len(srv.Functions()); n != 4 {
		t.Errorf("%d functions left, want 4", n)
	}
}

func TestRunZipTooLarge(t *testing.T) {
	srv := double(t, lambdatest.Options{})
	big := filepath.Join(t.TempDir(), "big.zip")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Only the size is read before the refusal; a sparse file will do.
	if _, err := f.WriteString("PK\x03\x04"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(awslambda.MaxZipUpload + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = awslambda.Run(context.Background(), []awslambda.Source{{Label: big, Path: big}}, options(2, 2))
	var tl *awslambda.TooLargeError
	if !errors.As(err, &tl) || tl.Bytes != awslambda.MaxZipUpload+1 {
		t.Errorf("%v, want *TooLargeError", err)
	}
	if n := srv.Calls("lambda:CreateFunction"); n != 0 {
		t.Errorf("%d functions created", n)
	}
}

// TestRunDeletionRefused: functions that cannot be deleted are named,
// and the run fails saying what was denied.
func TestRunDeletionRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	srv := double(t, lambdatest.Options{})
	zip := hostZip(t)
	srv.Deny("lambda:DeleteFunction")
	res, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: zip, Path: zip}}, options(1, 1))
	var ad *awslambda.AccessDeniedError
	if !errors.As(err, &ad) || ad.Action != "lambda:DeleteFunction" {
		t.Errorf("%v, want *AccessDeniedError for lambda:DeleteFunction", err)
	}
	if res == nil || len(res.Kept) != 1 || !slices.Equal(res.Kept, srv.Functions()) {
		t.Errorf("kept %v, double has %v", res.Kept, srv.Functions())
	}
}
