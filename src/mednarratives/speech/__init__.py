"""Speech: offline Whisper ASR with word timestamps, and Quilt-1M style medical-term correction."""
