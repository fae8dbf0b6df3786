// goclient: LiveKit's own Go server SDK as the control client of the A/V sync tests.
//
// Two modes, run inside the tests' network namespace (tests/livekit_server.py):
//
//	goclient publish   --url U --key K --secret S --room R --identity I --opus a.ogg --ivf v.ivf
//	                   [--wait-subscribed]
//	goclient subscribe --url U --key K --secret S --room R --identity I --from P --out DIR
//
// publish joins, publishes an Opus track from an Ogg file (one packet per page) and a VP8
// track from an IVF file, waits until both are bound (and, with --wait-subscribed, until
// someone subscribed to the audio), then writes both from one start time, each sample when
// its media time comes (real time), and leaves.
//
// subscribe joins, subscribes to P's audio and video, writes the received media to
// DIR/audio.ogg (pion's oggwriter) and DIR/video.ivf (pion's ivfwriter, RTP timestamps as
// PTS at 1/90000), and logs to DIR/log.jsonl one JSON line per RTP packet (arrival on
// CLOCK_MONOTONIC, the clock of Python's time.monotonic; RTP timestamp, sequence number,
// marker, payload size) and per RTCP sender report (NTP time <-> RTP time). It ends when
// P leaves (or after --seconds). Both modes print JSON lines on stdout: {"event": "ready"}
// once connected (and, for publish, bound), then a summary {"event": "done", ...}.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
	"golang.org/x/sys/unix"
)

type options struct {
	url, key, secret, room, identity string
	from, out, opus, ivf             string
	seconds                          float64
	waitSubscribed                   bool
}

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: goclient publish|subscribe [flags]"))
	}
	mode := os.Args[1]
	o := options{}
	flags := flag.NewFlagSet(mode, flag.ExitOnError)
	flags.StringVar(&o.url, "url", "", "server URL")
	flags.StringVar(&o.key, "key", "", "API key")
	flags.StringVar(&o.secret, "secret", "", "API secret")
	flags.StringVar(&o.room, "room", "", "room name")
	flags.StringVar(&o.identity, "identity", "", "this participant's identity")
	flags.StringVar(&o.from, "from", "", "subscribe: the publisher's identity")
	flags.StringVar(&o.out, "out", "", "subscribe: folder for audio.ogg, video.ivf, log.jsonl")
	flags.StringVar(&o.opus, "opus", "", "publish: Ogg Opus file, one packet per page")
	flags.StringVar(&o.ivf, "ivf", "", "publish: IVF VP8 file")
	flags.Float64Var(&o.seconds, "seconds", 60, "subscribe: give up after this long")
	flags.BoolVar(&o.waitSubscribed, "wait-subscribed", false,
		"publish: start once someone subscribed to the audio")
	_ = flags.Parse(os.Args[2:])
	var err error
	switch mode {
	case "publish":
		err = publish(o)
	case "subscribe":
		err = subscribe(o)
	default:
		err = fmt.Errorf("unknown mode %q (expected publish or subscribe)", mode)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "goclient:", err)
	os.Exit(1)
}

// monotonic is CLOCK_MONOTONIC in seconds, the clock of Python's time.monotonic().
func monotonic() float64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}

func emit(w io.Writer, mu *sync.Mutex, v map[string]any) {
	line, _ := json.Marshal(v)
	mu.Lock()
	defer mu.Unlock()
	_, _ = w.Write(append(line, '\n'))
}

var stdoutMu sync.Mutex

func say(v map[string]any) { emit(os.Stdout, &stdoutMu, v) }

func connect(o options, cb *lksdk.RoomCallback, autoSubscribe bool) (*lksdk.Room, error) {
	info := lksdk.ConnectInfo{
		APIKey: o.key, APISecret: o.secret, RoomName: o.room, ParticipantIdentity: o.identity,
	}
	return lksdk.ConnectToRoom(o.url, info, cb, lksdk.WithAutoSubscribe(autoSubscribe))
}

// A sample to send at its media time.
type sample struct {
	data     []byte
	pts      time.Duration
	duration time.Duration
}

func publish(o options) error {
	audio, err := readOggOpus(o.opus)
	if err != nil {
		return err
	}
	video, width, height, err := readIVF(o.ivf)
	if err != nil {
		return err
	}
	subscribed := make(chan struct{}, 1)
	callback := lksdk.NewRoomCallback()
	callback.OnLocalTrackSubscribed = func(pub *lksdk.LocalTrackPublication, _ *lksdk.LocalParticipant) {
		if pub.Name() == "audio" {
			select {
			case subscribed <- struct{}{}:
			default:
			}
		}
	}
	room, err := connect(o, callback, false)
	if err != nil {
		return err
	}
	defer room.Disconnect()
	audioTrack, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
	})
	if err != nil {
		return err
	}
	videoTrack, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
	})
	if err != nil {
		return err
	}
	bound := make(chan struct{}, 2)
	audioTrack.OnBind(func() { bound <- struct{}{} })
	videoTrack.OnBind(func() { bound <- struct{}{} })
	if _, err = room.LocalParticipant.PublishTrack(audioTrack, &lksdk.TrackPublicationOptions{
		Name: "audio", Source: 2, // MICROPHONE
	}); err != nil {
		return err
	}
	if _, err = room.LocalParticipant.PublishTrack(videoTrack, &lksdk.TrackPublicationOptions{
		Name: "video", Source: 1, VideoWidth: width, VideoHeight: height, // CAMERA
	}); err != nil {
		return err
	}
	for range 2 {
		select {
		case <-bound:
		case <-time.After(20 * time.Second):
			return errors.New("tracks not bound within 20 s")
		}
	}
	if o.waitSubscribed {
		select {
		case <-subscribed:
		case <-time.After(20 * time.Second):
			return errors.New("nobody subscribed to the audio within 20 s")
		}
	}
	// Both tracks from one start: sample i goes out at start + its pts.
	start := time.Now()
	startMono := monotonic()
	say(map[string]any{"event": "ready", "start": startMono})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, job := range []struct {
		track   *lksdk.LocalTrack
		samples []sample
	}{{audioTrack, audio}, {videoTrack, video}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, s := range job.samples {
				time.Sleep(time.Until(start.Add(s.pts)))
				if err := job.track.WriteSample(media.Sample{Data: s.data, Duration: s.duration}, nil); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // the last packets and sender reports go out
	say(map[string]any{
		"event": "done", "start": startMono, "audio_packets": len(audio),
		"video_frames": len(video), "wall_seconds": monotonic() - startMono,
	})
	return nil
}

// readOggOpus returns the Opus packets of an Ogg file after its two header packets, each
// at its media time (48 kHz granule, from the TOC byte's frame count and size).
func readOggOpus(path string) ([]sample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var packets [][]byte
	var packet []byte
	for pos := 0; pos < len(data); {
		if pos+27 > len(data) || string(data[pos:pos+4]) != "OggS" {
			return nil, fmt.Errorf("%s: no Ogg page at byte %d", path, pos)
		}
		count := int(data[pos+26])
		lacing := data[pos+27 : pos+27+count]
		body := pos + 27 + count
		for _, size := range lacing {
			packet = append(packet, data[body:body+int(size)]...)
			body += int(size)
			if size < 255 {
				packets = append(packets, packet)
				packet = nil
			}
		}
		pos = body
	}
	if len(packets) < 3 || !strings.HasPrefix(string(packets[0]), "OpusHead") {
		return nil, fmt.Errorf("%s: not an Ogg Opus file", path)
	}
	var samples []sample
	var at time.Duration
	for _, p := range packets[2:] {
		d := opusDuration(p)
		samples = append(samples, sample{data: p, pts: at, duration: d})
		at += d
	}
	return samples, nil
}

// opusDuration is an Opus packet's length (RFC 6716, 3.1: TOC byte and frame count).
func opusDuration(p []byte) time.Duration {
	if len(p) == 0 {
		return 0
	}
	toc := p[0]
	config := toc >> 3
	var frame time.Duration
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = []time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16: // hybrid: 10, 20 ms
		frame = []time.Duration{10, 20}[config%2] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
	frames := time.Duration(1)
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) > 1 {
			frames = time.Duration(p[1] & 0x3f)
		}
	}
	return frame * frames
}

// readIVF returns the frames of an IVF file at their media times, and its size.
func readIVF(path string) ([]sample, int, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(data) < 32 || string(data[:4]) != "DKIF" || string(data[8:12]) != "VP80" {
		return nil, 0, 0, fmt.Errorf("%s: not an IVF VP8 file", path)
	}
	width := int(binary.LittleEndian.Uint16(data[12:]))
	height := int(binary.LittleEndian.Uint16(data[14:]))
	rate := float64(binary.LittleEndian.Uint32(data[16:]))
	scale := float64(binary.LittleEndian.Uint32(data[20:]))
	var frames []sample
	for pos := int(binary.LittleEndian.Uint16(data[6:])); pos+12 <= len(data); {
		size := int(binary.LittleEndian.Uint32(data[pos:]))
		pts := float64(binary.LittleEndian.Uint64(data[pos+4:])) * scale / rate
		frames = append(frames, sample{
			data: data[pos+12 : pos+12+size],
			pts:  time.Duration(pts * float64(time.Second)),
		})
		pos += 12 + size
	}
	for i := range frames {
		if i+1 < len(frames) {
			frames[i].duration = frames[i+1].pts - frames[i].pts
		} else if i > 0 {
			frames[i].duration = frames[i-1].duration
		}
	}
	return frames, width, height, nil
}

// mediaWriter opens DIR/audio.ogg or DIR/video.ivf for a track's RTP packets.
func mediaWriter(dir, kind string, codec webrtc.RTPCodecParameters) (func(*rtp.Packet) error, func(), error) {
	switch {
	case kind == "audio" && strings.EqualFold(codec.MimeType, webrtc.MimeTypeOpus):
		w, err := oggwriter.New(filepath.Join(dir, "audio.ogg"), 48000, 2)
		if err != nil {
			return nil, nil, err
		}
		return w.WriteRTP, func() { _ = w.Close() }, nil
	case kind == "video" && strings.EqualFold(codec.MimeType, webrtc.MimeTypeVP8):
		w, err := ivfwriter.New(filepath.Join(dir, "video.ivf"),
			ivfwriter.WithCodec(webrtc.MimeTypeVP8), ivfwriter.WithFrameRate(1, 90000),
			ivfwriter.WithDirectPTS())
		if err != nil {
			return nil, nil, err
		}
		return w.WriteRTP, func() { _ = w.Close() }, nil
	}
	return nil, nil, fmt.Errorf("no writer for %s %s (Opus audio and VP8 video only)", kind, codec.MimeType)
}

func subscribe(o options) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(o.out, "log.jsonl"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	var logMu sync.Mutex
	log := func(v map[string]any) { emit(logFile, &logMu, v) }
	left := make(chan struct{})
	var leftOnce sync.Once
	var readers sync.WaitGroup
	counts := map[string]int{}
	var countsMu sync.Mutex

	onTrack := func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if rp.Identity() != o.from {
			return
		}
		kind := track.Kind().String()
		codec := track.Codec()
		write, closeWriter, err := mediaWriter(o.out, kind, codec)
		if err != nil {
			log(map[string]any{"type": "error", "kind": kind, "error": err.Error()})
			return
		}
		log(map[string]any{
			"type": "track", "kind": kind, "mime": codec.MimeType, "clock_rate": codec.ClockRate,
			"ssrc": uint32(track.SSRC()), "arrival": monotonic(),
		})
		ssrc := uint32(track.SSRC())
		pub.OnRTCP(func(p rtcp.Packet) {
			if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == ssrc {
				log(map[string]any{
					"type": "sr", "kind": kind, "arrival": monotonic(),
					"ntp": ntpSeconds(sr.NTPTime), "rtp": sr.RTPTime,
					"packets": sr.PacketCount, "octets": sr.OctetCount,
				})
			}
		})
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer closeWriter()
			for {
				packet, _, err := track.ReadRTP()
				if err != nil {
					return
				}
				arrival := monotonic()
				log(map[string]any{
					"type": "rtp", "kind": kind, "arrival": arrival, "ts": packet.Timestamp,
					"seq": packet.SequenceNumber, "marker": packet.Marker, "size": len(packet.Payload),
				})
				countsMu.Lock()
				counts[kind]++
				countsMu.Unlock()
				if err := write(packet); err != nil {
					log(map[string]any{"type": "error", "kind": kind, "error": err.Error()})
				}
			}
		}()
	}
	cb := &lksdk.RoomCallback{
		ParticipantCallback: lksdk.ParticipantCallback{OnTrackSubscribed: onTrack},
		OnParticipantDisconnected: func(rp *lksdk.RemoteParticipant) {
			if rp.Identity() == o.from {
				leftOnce.Do(func() { close(left) })
			}
		},
	}
	room, err := connect(o, cb, true)
	if err != nil {
		return err
	}
	say(map[string]any{"event": "ready", "at": monotonic()})
	outcome := "left"
	select {
	case <-left:
	case <-time.After(time.Duration(o.seconds * float64(time.Second))):
		outcome = "timeout"
	}
	room.Disconnect()
	waited := make(chan struct{})
	go func() { readers.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		outcome += ", readers still running"
	}
	countsMu.Lock()
	defer countsMu.Unlock()
	say(map[string]any{"event": "done", "outcome": outcome, "packets": counts})
	return nil
}

// ntpSeconds converts a 64-bit NTP timestamp (32.32 fixed point) to seconds.
func ntpSeconds(ntp uint64) float64 {
	return float64(ntp>>32) + float64(ntp&0xffffffff)/(1<<32)
}
