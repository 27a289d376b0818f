import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { type LiveViewDto } from '../liveview.service';

export class LiveViewResponse implements LiveViewDto {
  @ApiProperty({ example: 'cam_lobby' }) name!: string;
  @ApiProperty({ enum: ['mediamtx', 'builtin'] }) mode!: 'mediamtx' | 'builtin';
  @ApiProperty({
    description: 'HLS playlist URL with the viewer token (same-origin path for the built-in publisher)',
  })
  hls_url!: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'WHEP endpoint (MediaMTX only)' })
  webrtc_url!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'RTSP URL (MediaMTX only)' })
  rtsp_url!: string | null;
  @ApiProperty({ description: 'viewer token (HMAC, this camera only, expires at expires_at)' })
  token!: string;
  @ApiProperty() expires_at!: string;
  @ApiProperty() ready!: boolean;
}

export class LiveFileQuery {
  @ApiPropertyOptional({ description: 'the viewer token from /liveview' })
  @IsOptional()
  @IsString()
  token?: string;
}
