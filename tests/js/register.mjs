// `node --import ./tests/js/register.mjs`: resolve "/static/..." imports to the repository's pwa/static.
import { register } from "node:module";

register("./resolve.mjs", import.meta.url);
