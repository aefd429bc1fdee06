import dcmjs from "dcmjs";
import dcmjsDimse from "dcmjs-dimse";

/**
 * dcmjs-dimse is a webpack bundle: Node sees only its default export. This is the one file
 * that reaches into it; the rest of the package imports from here.
 */
export const { Dataset, Implementation, Scp, association, constants, log, requests, responses } = dcmjsDimse;
export type DimseAssociation = InstanceType<typeof association.Association>;
export type DimsePresentationContext = InstanceType<typeof association.PresentationContext>;
export type DimseDataset = InstanceType<typeof Dataset>;
export type DimseCStoreRequest = InstanceType<typeof requests.CStoreRequest>;
export type DimseCEchoRequest = InstanceType<typeof requests.CEchoRequest>;
export type DimseCStoreResponse = InstanceType<typeof responses.CStoreResponse>;
export type DimseCEchoResponse = InstanceType<typeof responses.CEchoResponse>;

// The library logs every PDU at info level (AE titles, UIDs); our classes report what matters.
log.setLevel("silent");
// dcmjs warns on the console about a header cut short, which readDicomTags does on purpose.
dcmjs.log.setLevel("silent");

export const TransferSyntax = {
  ImplicitVRLittleEndian: "1.2.840.10008.1.2",
  ExplicitVRLittleEndian: "1.2.840.10008.1.2.1",
  DeflatedExplicitVRLittleEndian: "1.2.840.10008.1.2.1.99",
  ExplicitVRBigEndian: "1.2.840.10008.1.2.2",
} as const;

export const VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1";
