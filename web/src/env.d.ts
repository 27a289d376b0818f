declare module '*.css';
declare module 'hls.js/light' {
  // The light build has the full build's API, less subtitles, alternate audio and DRM.
  import Hls from 'hls.js';
  export default Hls;
}
