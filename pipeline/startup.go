package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cspulse/cspulse/config"
)

// KafkaLogger hands franz-go's log lines to zap: warnings and errors
// always (a failed SASL handshake, a broker that cannot be reached), its
// info lines when log.level is debug.
func KafkaLogger(log *zap.Logger) kgo.Logger {
	lvl := kgo.LogLevelWarn
	if log.Core().Enabled(zapcore.DebugLevel) {
		lvl = kgo.LogLevelInfo
	}
	return &kgoZap{log: log.Named("kafka").WithOptions(zap.AddCallerSkip(1)), level: lvl}
}

type kgoZap struct {
	log   *zap.Logger
	level kgo.LogLevel
}

func (l *kgoZap) Level() kgo.LogLevel { return l.level }

func (l *kgoZap) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	fields := make([]zap.Field, 0, len(keyvals)/2)
	for i := 0; i+1 < len(keyvals); i += 2 {
		fields = append(fields, zap.Any(fmt.Sprint(keyvals[i]), keyvals[i+1]))
	}
	switch level {
	case kgo.LogLevelError:
		l.log.Error(msg, fields...)
	case kgo.LogLevelWarn:
		l.log.Warn(msg, fields...)
	case kgo.LogLevelInfo:
		l.log.Info(msg, fields...)
	default:
		l.log.Debug(msg, fields...)
	}
}

// Retry runs op until it succeeds, returns a backoff.Permanent error, or
// ctx ends (run.startup_timeout), waiting with exponential backoff between
// attempts and logging each failure with the time of the next attempt.
func Retry(ctx context.Context, what string, log *zap.Logger, op func(context.Context) error) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.MaxInterval = 10 * time.Second
	b.MaxElapsedTime = 0 // ctx bounds it
	attempt := 0
	var last error
	err := backoff.RetryNotify(func() error {
		attempt++
		last = op(ctx)
		return last
	}, backoff.WithContext(b, ctx), func(err error, next time.Duration) {
		at := time.Now().Add(next)
		if deadline, ok := ctx.Deadline(); ok && at.After(deadline) {
			log.Warn(what+" failed; no time left for another attempt (run.startup_timeout)",
				zap.Int("attempt", attempt), zap.Error(err))
			return
		}
		log.Warn(what+" failed; retrying", zap.Int("attempt", attempt), zap.Error(err), zap.Time("next_attempt", at.UTC()))
	})
	if err == nil {
		return nil
	}
	var perm *backoff.PermanentError
	if errors.As(err, &perm) {
		return perm.Err
	}
	if ctx.Err() != nil && last != nil {
		return fmt.Errorf("%s: gave up after %d attempts (run.startup_timeout): %w", what, attempt, last)
	}
	return err
}

// PrepareKafka is a run's start on Kafka: it connects, authenticates,
// creates the missing topics and waits until they are visible, retrying
// while ctx lasts (bound it by run.startup_timeout), so that cspulse and
// its brokers can start in any order. It returns the input topics'
// partition count. An authentication failure ends it at once, with one
// clear error.
func PrepareKafka(ctx context.Context, cfg *config.Config, brokers []string, log *zap.Logger) (int32, error) {
	opts, err := ClientOptions(cfg.Kafka, brokers)
	if err != nil {
		return 0, err
	}
	watch := &authWatch{}
	cl, err := kgo.NewClient(append(opts, kgo.WithLogger(KafkaLogger(log)), kgo.WithHooks(watch))...)
	if err != nil {
		return 0, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	var partitions int32
	firstReadEOF := 0 // attempts in a row that the broker closed on the first request
	err = Retry(ctx, "kafka "+fmt.Sprint(brokers), log, func(ctx context.Context) error {
		err := prepareAttempt(ctx, cl, cfg, watch, &partitions)
		var eof *kgo.ErrFirstReadEOF
		if err == nil || !errors.As(err, &eof) {
			firstReadEOF = 0
			return err
		}
		// A broker that accepts the connection and closes it at the first
		// request, again and again, wants what the client does not speak.
		if firstReadEOF++; firstReadEOF >= 3 {
			return backoff.Permanent(fmt.Errorf("kafka %v closes every connection at its first request: it requires SASL "+
				"(kafka.sasl.mechanism is %s) or TLS (kafka.tls.enabled is %v): %w",
				brokers, cfg.Kafka.SASL.Mechanism, cfg.Kafka.TLS.Enabled, err))
		}
		return err
	})
	return partitions, err
}

// prepareAttempt is one try of PrepareKafka.
func prepareAttempt(ctx context.Context, cl *kgo.Client, cfg *config.Config, watch *authWatch, partitions *int32) error {
	attempt, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := cl.Ping(attempt); err != nil {
		return kafkaStartError(cfg.Kafka, watch, err)
	}
	n, err := EnsureTopics(attempt, cl, cfg.Topics, cfg.Kafka.Partitions)
	if err != nil {
		return kafkaStartError(cfg.Kafka, watch, err)
	}
	*partitions = n
	return nil
}

// kafkaStartError names an authentication or authorization failure as
// such (permanent: retrying cannot fix a password), and adds a hint to a
// connection the broker closed, which is how a broker that wants SASL or
// TLS answers a client that does not speak it.
func kafkaStartError(k config.Kafka, watch *authWatch, err error) error {
	if watch.rejected.Load() {
		// Some brokers (kfake; Kafka before KIP-152) answer bad
		// credentials by closing the connection, not with an error code.
		return backoff.Permanent(fmt.Errorf("kafka authentication failed (kafka.sasl.mechanism=%s, kafka.sasl.user=%q): "+
			"the broker closed the connection in answer to the credentials: %w", k.SASL.Mechanism, k.SASL.User, err))
	}
	for _, auth := range []error{kerr.SaslAuthenticationFailed, kerr.UnsupportedSaslMechanism,
		kerr.IllegalSaslState, kerr.ClusterAuthorizationFailed, kerr.TopicAuthorizationFailed} {
		if errors.Is(err, auth) {
			return backoff.Permanent(fmt.Errorf("kafka authentication failed (kafka.sasl.mechanism=%s, kafka.sasl.user=%q, kafka.tls.enabled=%v): %w",
				k.SASL.Mechanism, k.SASL.User, k.TLS.Enabled, err))
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%w (the broker closed the connection: is it still starting, or does it want SASL or TLS? "+
			"kafka.sasl.mechanism=%s, kafka.tls.enabled=%v)", err, k.SASL.Mechanism, k.TLS.Enabled)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return fmt.Errorf("%w (broker not reachable)", err)
	}
	return err
}

// authWatch notices a broker that drops the connection during the SASL
// exchange: its answer to credentials it does not accept.
type authWatch struct{ rejected atomic.Bool }

func (w *authWatch) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err != nil && (key == int16(kmsg.SASLAuthenticate) || key == int16(kmsg.SASLHandshake)) {
		w.rejected.Store(true)
	}
}
