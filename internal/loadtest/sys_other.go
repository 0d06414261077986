//go:build !unix

package loadtest

import (
	"math"
	"time"
)

func raiseFileLimit() (uint64, error) { return math.MaxUint64, nil }

func processCPU() time.Duration { return 0 }
