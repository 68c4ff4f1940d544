// Captured from `ffprobe -v error -print_format json -show_format -show_streams` (ffmpeg 5.1, Debian 12).
// Files were generated with ffmpeg lavfi sources; the trimmed ones drop keys the parser ignores.

enum CapturedProbeJSON {
    /// 640x360 25 fps H.264 + mono AAC in MP4, 3 s (full output).
    static let h264AAC = #"""
        {
            "streams": [
                {
                    "index": 0,
                    "codec_name": "h264",
                    "codec_long_name": "H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10",
                    "profile": "High",
                    "codec_type": "video",
                    "codec_tag_string": "avc1",
                    "codec_tag": "0x31637661",
                    "width": 640,
                    "height": 360,
                    "coded_width": 640,
                    "coded_height": 360,
                    "closed_captions": 0,
                    "film_grain": 0,
                    "has_b_frames": 2,
                    "sample_aspect_ratio": "1:1",
                    "display_aspect_ratio": "16:9",
                    "pix_fmt": "yuv420p",
                    "level": 30,
                    "chroma_location": "left",
                    "field_order": "progressive",
                    "refs": 1,
                    "is_avc": "true",
                    "nal_length_size": "4",
                    "id": "0x1",
                    "r_frame_rate": "25/1",
                    "avg_frame_rate": "25/1",
                    "time_base": "1/12800",
                    "start_pts": 0,
                    "start_time": "0.000000",
                    "duration_ts": 38400,
                    "duration": "3.000000",
                    "bit_rate": "55968",
                    "bits_per_raw_sample": "8",
                    "nb_frames": "75",
                    "extradata_size": 47,
                    "disposition": {
                        "default": 1,
                        "dub": 0,
                        "original": 0,
                        "comment": 0,
                        "lyrics": 0,
                        "karaoke": 0,
                        "forced": 0,
                        "hearing_impaired": 0,
                        "visual_impaired": 0,
                        "clean_effects": 0,
                        "attached_pic": 0,
                        "timed_thumbnails": 0,
                        "captions": 0,
                        "descriptions": 0,
                        "metadata": 0,
                        "dependent": 0,
                        "still_image": 0
                    },
                    "tags": {
                        "language": "und",
                        "handler_name": "VideoHandler",
                        "vendor_id": "[0][0][0][0]",
                        "encoder": "Lavc59.37.100 libx264"
                    }
                },
                {
                    "index": 1,
                    "codec_name": "aac",
                    "codec_long_name": "AAC (Advanced Audio Coding)",
                    "profile": "LC",
                    "codec_type": "audio",
                    "codec_tag_string": "mp4a",
                    "codec_tag": "0x6134706d",
                    "sample_fmt": "fltp",
                    "sample_rate": "44100",
                    "channels": 1,
                    "channel_layout": "mono",
                    "bits_per_sample": 0,
                    "id": "0x2",
                    "r_frame_rate": "0/0",
                    "avg_frame_rate": "0/0",
                    "time_base": "1/44100",
                    "start_pts": 0,
                    "start_time": "0.000000",
                    "duration_ts": 132300,
                    "duration": "3.000000",
                    "bit_rate": "69584",
                    "nb_frames": "131",
                    "extradata_size": 5,
                    "disposition": {
                        "default": 1,
                        "dub": 0,
                        "original": 0,
                        "comment": 0,
                        "lyrics": 0,
                        "karaoke": 0,
                        "forced": 0,
                        "hearing_impaired": 0,
                        "visual_impaired": 0,
                        "clean_effects": 0,
                        "attached_pic": 0,
                        "timed_thumbnails": 0,
                        "captions": 0,
                        "descriptions": 0,
                        "metadata": 0,
                        "dependent": 0,
                        "still_image": 0
                    },
                    "tags": {
                        "language": "und",
                        "handler_name": "SoundHandler",
                        "vendor_id": "[0][0][0][0]"
                    }
                }
            ],
            "format": {
                "filename": "h264.mp4",
                "nb_streams": 2,
                "nb_programs": 0,
                "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
                "format_long_name": "QuickTime / MOV",
                "start_time": "0.000000",
                "duration": "3.000000",
                "size": "51229",
                "bit_rate": "136610",
                "probe_score": 100,
                "tags": {
                    "major_brand": "isom",
                    "minor_version": "512",
                    "compatible_brands": "isomiso2avc1mp41",
                    "encoder": "Lavf59.27.100"
                }
            }
        }
    """#

    /// A 640x360 PNG detected by content (png_pipe), full output.
    static let png = #"""
        {
            "streams": [
                {
                    "index": 0,
                    "codec_name": "png",
                    "codec_long_name": "PNG (Portable Network Graphics) image",
                    "codec_type": "video",
                    "codec_tag_string": "[0][0][0][0]",
                    "codec_tag": "0x0000",
                    "width": 640,
                    "height": 360,
                    "coded_width": 640,
                    "coded_height": 360,
                    "closed_captions": 0,
                    "film_grain": 0,
                    "has_b_frames": 0,
                    "sample_aspect_ratio": "1:1",
                    "display_aspect_ratio": "16:9",
                    "pix_fmt": "rgb24",
                    "level": -99,
                    "color_range": "pc",
                    "refs": 1,
                    "r_frame_rate": "25/1",
                    "avg_frame_rate": "25/1",
                    "time_base": "1/25",
                    "disposition": {
                        "default": 0,
                        "dub": 0,
                        "original": 0,
                        "comment": 0,
                        "lyrics": 0,
                        "karaoke": 0,
                        "forced": 0,
                        "hearing_impaired": 0,
                        "visual_impaired": 0,
                        "clean_effects": 0,
                        "attached_pic": 0,
                        "timed_thumbnails": 0,
                        "captions": 0,
                        "descriptions": 0,
                        "metadata": 0,
                        "dependent": 0,
                        "still_image": 0
                    }
                }
            ],
            "format": {
                "filename": "img.png",
                "nb_streams": 1,
                "nb_programs": 0,
                "format_name": "png_pipe",
                "format_long_name": "piped png sequence",
                "size": "11194",
                "probe_score": 99
            }
        }
    """#

    /// The h264 clip with a 90 degree display matrix: stored 640x360, shown 360x640 (trimmed).
    static let rotatedPortrait = #"""
        {
          "streams": [
            {
              "index": 0,
              "codec_name": "h264",
              "codec_type": "video",
              "codec_tag_string": "avc1",
              "width": 640,
              "height": 360,
              "pix_fmt": "yuv420p",
              "r_frame_rate": "25/1",
              "avg_frame_rate": "25/1",
              "duration": "3.000000",
              "bit_rate": "55968",
              "nb_frames": "75",
              "disposition": {
                "default": 1,
                "attached_pic": 0
              },
              "tags": {
                "language": "und",
                "handler_name": "VideoHandler",
                "vendor_id": "[0][0][0][0]",
                "encoder": "Lavc59.37.100 libx264"
              },
              "side_data_list": [
                {
                  "side_data_type": "Display Matrix",
                  "rotation": 90
                }
              ]
            },
            {
              "index": 1,
              "codec_name": "aac",
              "codec_type": "audio",
              "codec_tag_string": "mp4a",
              "sample_rate": "44100",
              "channels": 1,
              "r_frame_rate": "0/0",
              "avg_frame_rate": "0/0",
              "duration": "3.000000",
              "bit_rate": "69584",
              "nb_frames": "131",
              "disposition": {
                "default": 1,
                "attached_pic": 0
              },
              "tags": {
                "language": "und",
                "handler_name": "SoundHandler",
                "vendor_id": "[0][0][0][0]"
              }
            }
          ],
          "format": {
            "filename": "rot.mp4",
            "nb_streams": 2,
            "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
            "duration": "3.000000",
            "size": "51229",
            "bit_rate": "136610",
            "tags": {
              "major_brand": "isom",
              "minor_version": "512",
              "compatible_brands": "isomiso2avc1mp41",
              "encoder": "Lavf59.27.100"
            }
          }
        }
    """#

    /// 320x240 10-bit HEVC + Opus in Matroska, no codec tags (trimmed).
    static let hevc10BitOpusMKV = #"""
        {
          "streams": [
            {
              "index": 0,
              "codec_name": "hevc",
              "codec_type": "video",
              "codec_tag_string": "[0][0][0][0]",
              "width": 320,
              "height": 240,
              "pix_fmt": "yuv420p10le",
              "r_frame_rate": "25/1",
              "avg_frame_rate": "25/1",
              "disposition": {
                "default": 0,
                "attached_pic": 0
              },
              "tags": {
                "ENCODER": "Lavc59.37.100 libx265",
                "DURATION": "00:00:01.007000000"
              }
            },
            {
              "index": 1,
              "codec_name": "opus",
              "codec_type": "audio",
              "codec_tag_string": "[0][0][0][0]",
              "sample_rate": "48000",
              "channels": 1,
              "r_frame_rate": "0/0",
              "avg_frame_rate": "0/0",
              "disposition": {
                "default": 0,
                "attached_pic": 0
              },
              "tags": {
                "ENCODER": "Lavc59.37.100 libopus",
                "DURATION": "00:00:01.008000000"
              }
            }
          ],
          "format": {
            "filename": "hevc10.mkv",
            "nb_streams": 2,
            "format_name": "matroska,webm",
            "duration": "1.008000",
            "size": "17199",
            "bit_rate": "136500",
            "tags": {
              "ENCODER": "Lavf59.27.100"
            }
          }
        }
    """#

    /// MP3 whose only "video" stream is attached cover art (trimmed).
    static let mp3WithCover = #"""
        {
          "streams": [
            {
              "index": 0,
              "codec_name": "mp3",
              "codec_type": "audio",
              "codec_tag_string": "[0][0][0][0]",
              "sample_rate": "44100",
              "channels": 1,
              "r_frame_rate": "0/0",
              "avg_frame_rate": "0/0",
              "duration": "1.044898",
              "bit_rate": "64000",
              "disposition": {
                "default": 0,
                "attached_pic": 0
              }
            },
            {
              "index": 1,
              "codec_name": "mjpeg",
              "codec_type": "video",
              "codec_tag_string": "[0][0][0][0]",
              "width": 640,
              "height": 360,
              "pix_fmt": "yuvj444p",
              "r_frame_rate": "90000/1",
              "avg_frame_rate": "0/0",
              "duration": "1.044900",
              "disposition": {
                "default": 0,
                "attached_pic": 1
              },
              "tags": {
                "comment": "Other"
              }
            }
          ],
          "format": {
            "filename": "cover.mp3",
            "nb_streams": 2,
            "format_name": "mp3",
            "duration": "1.044898",
            "size": "24046",
            "bit_rate": "184102",
            "tags": {
              "encoder": "Lavf59.27.100"
            }
          }
        }
    """#

    /// A JPEG opened through the image2 demuxer (trimmed).
    static let jpeg = #"""
        {
          "streams": [
            {
              "index": 0,
              "codec_name": "mjpeg",
              "codec_type": "video",
              "codec_tag_string": "[0][0][0][0]",
              "width": 640,
              "height": 360,
              "pix_fmt": "yuvj444p",
              "r_frame_rate": "25/1",
              "avg_frame_rate": "25/1",
              "duration": "0.040000",
              "disposition": {
                "default": 0,
                "attached_pic": 0
              }
            }
          ],
          "format": {
            "filename": "img.jpg",
            "nb_streams": 1,
            "format_name": "image2",
            "duration": "0.040000",
            "size": "15420",
            "bit_rate": "3084000"
          }
        }
    """#
}
