import { browserBuild } from '../../tsup.browser';

export default browserBuild();
