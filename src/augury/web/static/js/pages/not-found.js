/* The 404 page: nothing to fill, only links; it is marked ready like every page. */

import { startPublic } from "../shell.js";

startPublic(() => {});
