# PortAudio (through PyAudio) as a client of the loopback PCMs, for
# tests/client-portaudio.sh.  S16 interleaved, 2 channels.
#   list                      print the ALSA devices PortAudio offers, one a line
#   play NAME RATE FILE       play a raw S16_LE stereo file into device NAME
#   record NAME RATE FRAMES FILE
#                             record FRAMES frames from NAME into FILE (written
#                             as it arrives, so the caller sees the stream run);
#                             when the input overflows (PortAudio lost what
#                             it could not keep), say where on stderr
#                             ("overflow at frame N", N frames written before
#                             it) and exit 3: PyAudio closes the stream then
import sys

import pyaudio

CHUNK = 1024


def device(pa, name):
    for i in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(i)
        if info["name"] == name:
            return i
    sys.exit("PortAudio lists no device named %r" % name)


def main():
    pa = pyaudio.PyAudio()
    cmd = sys.argv[1]
    if cmd == "list":
        for i in range(pa.get_device_count()):
            info = pa.get_device_info_by_index(i)
            api = pa.get_host_api_info_by_index(info["hostApi"])["name"]
            print("%s\t%s\tin=%d out=%d" % (api, info["name"], info["maxInputChannels"],
                                            info["maxOutputChannels"]))
    elif cmd == "play":
        name, rate, path = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        data = open(path, "rb").read()
        s = pa.open(format=pyaudio.paInt16, channels=2, rate=rate, output=True,
                    output_device_index=device(pa, name), frames_per_buffer=CHUNK)
        # PortAudio 19.6 stops a blocking ALSA stream with snd_pcm_drop, not
        # snd_pcm_drain: whatever is still in the buffer (up to 2048 frames
        # here) is discarded, with any device.  Follow the data with 0.1 s
        # of silence so that only silence is lost.
        s.write(data + bytes(4 * rate // 10))
        s.stop_stream()
        s.close()
    elif cmd == "record":
        name, rate, frames, path = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        s = pa.open(format=pyaudio.paInt16, channels=2, rate=rate, input=True,
                    input_device_index=device(pa, name), frames_per_buffer=CHUNK)
        done = 0
        with open(path, "wb") as out:
            while frames > 0:
                n = min(CHUNK, frames)
                try:
                    data = s.read(n, exception_on_overflow=True)
                except OSError as e:
                    if e.errno != pyaudio.paInputOverflowed:
                        raise
                    print("overflow at frame %d" % done, file=sys.stderr, flush=True)
                    pa.terminate()
                    sys.exit(3)
                out.write(data)
                out.flush()
                done += n
                frames -= n
        s.close()
    else:
        sys.exit("usage: list | play NAME RATE FILE | record NAME RATE FRAMES FILE")
    pa.terminate()


main()
