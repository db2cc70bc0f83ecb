export { initLab, renderLabTwIni, renderLabSimIni, type LabDescription, type LabOptions } from './init.js';
export { makeLabPki, issueCertificate, LAB_SERVER_NAME, type LabPki } from './certs.js';
export { makeOrder } from './orders.js';
