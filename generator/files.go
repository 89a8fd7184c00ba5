package generator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cspulse/cspulse/schemas"
)

// File format of WriteFiles and ReadFiles: one file per topic,
// dir/<topic>.jsonl (cs.sessions.jsonl, …), one record value per line, in
// the order emitted. The key is not stored: it is the value's shop_id. The
// only records whose key cannot be recovered that way (poison of reason
// key_mismatch, or a value without a readable shop_id) get a line
// "#key <key>" just before their value; such lines exist only in runs with
// poison, which has lines that are not JSON anyway. Clean files are plain
// JSON lines: `jq . dir/cs.messages.jsonl` works.

const (
	fileSuffix   = ".jsonl"
	keyDirective = "#key "
)

// WriteFiles returns an emit callback that appends records to JSON-lines
// files in dir (created if missing), and a close function that flushes and
// closes them. Files are created on their topic's first record.
func WriteFiles(dir string) (emit func(*Record) error, close func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("generator: %w", err)
	}
	w := &fileWriter{dir: dir, files: map[string]*topicFile{}}
	return w.write, w.close, nil
}

type topicFile struct {
	f *os.File
	w *bufio.Writer
}

type fileWriter struct {
	dir   string
	files map[string]*topicFile
	order []string // topics in the order their files were opened
}

func (w *fileWriter) write(rec *Record) error {
	tf, err := w.file(rec.Topic)
	if err != nil {
		return err
	}
	if bytes.IndexByte(rec.Value, '\n') >= 0 {
		return fmt.Errorf("generator: %s record contains a newline", rec.Topic)
	}
	if !bytes.Equal(shopIDOf(rec.Value), rec.Key) {
		tf.w.WriteString(keyDirective)
		tf.w.Write(rec.Key)
		tf.w.WriteByte('\n')
	}
	tf.w.Write(rec.Value)
	return tf.w.WriteByte('\n') // bufio keeps the first error; close reports it too
}

func (w *fileWriter) file(topic string) (*topicFile, error) {
	if tf, ok := w.files[topic]; ok {
		return tf, nil
	}
	if topic == "" || strings.ContainsAny(topic, `/\`) {
		return nil, fmt.Errorf("generator: bad topic name %q", topic)
	}
	f, err := os.Create(filepath.Join(w.dir, topic+fileSuffix))
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	tf := &topicFile{f: f, w: bufio.NewWriterSize(f, 256<<10)}
	w.files[topic] = tf
	w.order = append(w.order, topic)
	return tf, nil
}

func (w *fileWriter) close() error {
	var errs []error
	for _, topic := range w.order {
		tf := w.files[topic]
		errs = append(errs, tf.w.Flush(), tf.f.Close())
	}
	w.files, w.order = map[string]*topicFile{}, nil
	return errors.Join(errs...)
}

// ReadFiles reads every dir/*.jsonl back and calls emit per record. Files
// are merged by ts (each file's own order is kept), so that the stream is
// in event-time order as far as the files allow; TS is the value's ts, or
// the previous record's of the same file when the value has no plausible
// one (poison). The Record is reused as in Generate.
func ReadFiles(dir string, emit func(*Record) error) error {
	names, err := filepath.Glob(filepath.Join(dir, "*"+fileSuffix))
	if err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	sort.Strings(names)
	readers := make([]*lineReader, 0, len(names))
	defer func() {
		for _, r := range readers {
			r.f.Close()
		}
	}()
	for _, name := range names {
		r, err := openLineReader(name)
		if err != nil {
			return err
		}
		readers = append(readers, r)
	}
	var rec Record
	for {
		next := -1
		for i, r := range readers {
			if r.ok && (next < 0 || r.rec.TS < readers[next].rec.TS) {
				next = i
			}
		}
		if next < 0 {
			return nil
		}
		r := readers[next]
		rec = r.rec
		if err := emit(&rec); err != nil {
			return err
		}
		if err := r.advance(); err != nil {
			return err
		}
	}
}

// lineReader reads one topic file, one record ahead.
type lineReader struct {
	f        *os.File
	sc       *bufio.Scanner
	name     string
	line     int
	ok       bool // rec holds a record
	rec      Record
	key      []byte
	previous int64
}

func openLineReader(name string) (*lineReader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	topic := strings.TrimSuffix(filepath.Base(name), fileSuffix)
	r := &lineReader{f: f, sc: sc, name: name}
	r.rec.Topic = topic
	r.rec.Kind = topicKind(topic)
	return r, r.advance()
}

func topicKind(name string) schemas.Topic {
	for t, n := range schemas.DefaultTopicNames {
		if n == name {
			return t
		}
	}
	return schemas.TopicInvalid
}

// advance reads the next record (a "#key" line and its value, or a value).
func (r *lineReader) advance() error {
	r.ok = false
	haveKey := false
	for r.sc.Scan() {
		r.line++
		line := r.sc.Bytes()
		if k, found := bytes.CutPrefix(line, []byte(keyDirective)); found {
			r.key = append(r.key[:0], k...)
			haveKey = true
			continue
		}
		if !haveKey {
			r.key = append(r.key[:0], shopIDOf(line)...)
		}
		r.rec.Key, r.rec.Value = r.key, line
		if ts, ok := tsOf(line); ok {
			r.previous = ts
		}
		r.rec.TS = r.previous
		r.ok = true
		return nil
	}
	if err := r.sc.Err(); err != nil {
		return fmt.Errorf("generator: %s line %d: %w", r.name, r.line+1, err)
	}
	return nil
}

// shopIDOf finds the shop_id of a value without parsing it all: the
// generator's ids never contain quotes or escapes.
func shopIDOf(v []byte) []byte {
	const field = `"shop_id":"`
	i := bytes.Index(v, []byte(field))
	if i < 0 {
		return nil
	}
	rest := v[i+len(field):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil
	}
	return rest[:j]
}

// tsOf finds a plausible ts: one the schemas decoder accepts by default.
func tsOf(v []byte) (int64, bool) {
	const field = `"ts":`
	i := bytes.Index(v, []byte(field))
	if i < 0 {
		return 0, false
	}
	var ts int64
	digits := 0
	for _, ch := range v[i+len(field):] {
		if ch < '0' || ch > '9' {
			break
		}
		ts = ts*10 + int64(ch-'0')
		if digits++; digits > 13 {
			return 0, false
		}
	}
	return ts, digits > 0 && ts >= schemas.DefaultMinTS && ts < schemas.DefaultMaxTS
}
