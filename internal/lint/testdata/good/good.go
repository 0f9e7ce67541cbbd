package good

import (
	"errors"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

func allowed(ch chan int, err error, l runtime.Loop) time.Duration {
	r := rand.New(rand.NewPCG(1, 2))
	_ = r.IntN(3)
	_ = errors.Is(err, os.ErrNotExist)
	_ = log.New(io.Discard, "", 0)
	slog.New(slog.DiscardHandler).Info("injected loggers are fine")
	runtime.Gosched() // the module's runtime package is not the standard one
	select {
	case <-ch:
	}
	return 3 * time.Second
}
